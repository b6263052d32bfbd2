// Meeting audio, video and screen sharing in the browser, with the portal's
// SFU (internal/media). A static file because the CSP forbids inline
// script; it attaches to the element the "media" template partial renders:
//
//   <section id="media" data-signal-url="/meetings/345/media" data-self-id="42" data-role="host" data-leave-form="leave-form">
//
// Two peer connections, each with one offerer (see internal/media): "pub"
// carries what this browser sends and this browser offers it; "sub" carries
// what the SFU forwards and the SFU offers it, again whenever someone joins
// or leaves. Messages are JSON objects with a "type"; see docs/MEDIA.md.
//
// window.portalMedia exposes the peer connections, the received streams and
// the state so a browser test can read RTCPeerConnection.getStats() per
// participant.
(function () {
  "use strict";

  const root = document.getElementById("media");
  if (!root || !window.RTCPeerConnection) {
    return;
  }
  const $ = (name) => root.querySelector('[data-media="' + name + '"]');
  const selfID = root.dataset.selfId || "";
  const isHost = root.dataset.role === "host";

  // Camera simulcast as Chrome names its layers: quarter, half and full
  // resolution. The SFU forwards to each receiver the layer its bandwidth
  // allows, so a weak receiver does not lower what the others get.
  const simulcast = [
    { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150000 },
    { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500000 },
    { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1500000 },
  ];

  const state = {
    phase: "check", // check, connecting, joined, reconnecting, left, removed, ended
    participants: [],
    audioOn: true,
    videoOn: true,
    sharing: false,
  };
  let ws = null;
  let pub = null;
  let sub = null;
  let localStream = null;
  let screenStream = null;
  let screenSender = null;
  let graceSeconds = 20;
  let reconnectDeadline = 0;
  let reconnectTimer = 0;
  let queue = Promise.resolve(); // messages are handled one after another
  const pending = { pub: [], sub: [] }; // candidates before their description
  const remoteStreams = new Map(); // stream ID → MediaStream
  const meters = new Map(); // participant ID → analyser reading
  let audioContext = null;

  window.portalMedia = {
    get pc() { return sub; },
    get publisher() { return pub; },
    get state() { return state.phase; },
    get participants() { return state.participants; },
    get streams() { return remoteStreams; }, // stream ID (participants[].streams) → MediaStream
  };

  function setPhase(phase, text) {
    state.phase = phase;
    root.dataset.phase = phase;
    if (text !== undefined) {
      $("status").textContent = text;
    }
  }

  // ---- Device check -------------------------------------------------------

  let previewReady = null; // the device check's stream, once getUserMedia has answered

  function startPreview() {
    $("join").disabled = true;
    previewReady = openDevices().finally(() => { $("join").disabled = false; });
    return previewReady;
  }

  async function openDevices() {
    const camera = $("camera-select").value;
    const mic = $("mic-select").value;
    if (localStream) {
      localStream.getTracks().forEach((t) => t.stop());
    }
    try {
      localStream = await navigator.mediaDevices.getUserMedia({
        audio: mic ? { deviceId: { exact: mic } } : true,
        video: camera ? { deviceId: { exact: camera }, width: 1280, height: 720 } : { width: 1280, height: 720 },
      });
    } catch (err) {
      // Joining without a camera or microphone still lets one see and hear.
      $("check-status").textContent = "Camera or microphone unavailable (" + err.name + "). You can still join to watch and listen.";
      localStream = new MediaStream();
    }
    $("preview").srcObject = localStream;
    watchLevel(selfID, localStream);
    await listDevices();
  }

  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    fillSelect($("camera-select"), devices.filter((d) => d.kind === "videoinput"), trackDevice("video"));
    fillSelect($("mic-select"), devices.filter((d) => d.kind === "audioinput"), trackDevice("audio"));
  }

  function trackDevice(kind) {
    const t = localStream && localStream.getTracks().find((x) => x.kind === kind);
    return t && t.getSettings ? t.getSettings().deviceId : "";
  }

  function fillSelect(select, devices, current) {
    select.replaceChildren();
    devices.forEach((d, i) => {
      const opt = document.createElement("option");
      opt.value = d.deviceId;
      opt.textContent = d.label || (d.kind === "videoinput" ? "Camera " : "Microphone ") + (i + 1);
      opt.selected = d.deviceId === current;
      select.append(opt);
    });
    select.disabled = devices.length === 0;
  }

  // Speaking indicator and microphone meter: an analyser per audio stream,
  // read a few times a second.
  function watchLevel(id, stream) {
    if (!stream.getAudioTracks().length) {
      meters.delete(id);
      return;
    }
    audioContext = audioContext || new AudioContext();
    const analyser = audioContext.createAnalyser();
    analyser.fftSize = 512;
    audioContext.createMediaStreamSource(stream).connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    meters.set(id, () => {
      analyser.getByteTimeDomainData(data);
      let peak = 0;
      for (const v of data) {
        peak = Math.max(peak, Math.abs(v - 128));
      }
      return peak / 128;
    });
  }

  setInterval(() => {
    const own = meters.get(selfID);
    if (own) {
      $("level").value = state.audioOn ? own() : 0;
    }
    for (const tile of $("grid").querySelectorAll(".media-tile[data-source=camera]")) {
      const read = meters.get(tile.dataset.participant);
      const p = state.participants.find((x) => x.id === tile.dataset.participant);
      const audible = tile.dataset.participant === selfID ? state.audioOn : p && p.audio;
      tile.classList.toggle("speaking", Boolean(read && audible && read() > 0.08));
    }
  }, 200);

  // ---- Signalling ---------------------------------------------------------

  function signalURL() {
    const u = new URL(root.dataset.signalUrl, location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : u.protocol === "http:" ? "ws:" : u.protocol;
    return u.toString();
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(msg));
    }
  }

  function connect() {
    clearTimeout(reconnectTimer);
    setPhase(state.phase === "reconnecting" ? "reconnecting" : "connecting", state.phase === "reconnecting" ? "Reconnecting…" : "Joining…");
    const socket = new WebSocket(signalURL());
    ws = socket;
    socket.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      queue = queue.then(() => handle(msg)).catch((err) => console.error("media:", err));
    };
    socket.onclose = (ev) => {
      if (ws === socket) {
        closed(ev.code);
      }
    };
  }

  function newPeerConnection(name, iceServers) {
    const pc = new RTCPeerConnection({ iceServers: iceServers || [] });
    pc.onicecandidate = (ev) => {
      if (ev.candidate) {
        send({ type: "candidate", pc: name, candidate: ev.candidate.toJSON() });
      }
    };
    pc.onconnectionstatechange = () => {
      // A failed transport (network change) does not come back by itself:
      // hang up and reconnect, keeping our place in the meeting.
      if (pc.connectionState === "failed" && ws) {
        ws.close();
      }
    };
    return pc;
  }

  async function handle(msg) {
    switch (msg.type) {
      case "welcome":
        graceSeconds = msg.graceSeconds || graceSeconds;
        startPeerConnections(msg.iceServers);
        setPhase("joined", "");
        break;
      case "participants":
        state.participants = msg.participants || [];
        render();
        break;
      case "offer":
        await sub.setRemoteDescription({ type: "offer", sdp: msg.sdp });
        await flushCandidates("sub");
        await sub.setLocalDescription(await sub.createAnswer());
        send({ type: "answer", pc: "sub", sdp: sub.localDescription.sdp });
        break;
      case "answer":
        await pub.setRemoteDescription({ type: "answer", sdp: msg.sdp });
        await flushCandidates("pub");
        break;
      case "candidate": {
        const pc = msg.pc === "sub" ? sub : pub;
        if (!pc.remoteDescription) {
          pending[msg.pc === "sub" ? "sub" : "pub"].push(msg.candidate);
        } else {
          await pc.addIceCandidate(msg.candidate);
        }
        break;
      }
      case "muted":
        setAudio(false, false);
        announce("The host muted your microphone.");
        break;
      case "error":
        console.warn("media: server refused a message:", msg.message);
        break;
    }
  }

  async function flushCandidates(name) {
    const pc = name === "sub" ? sub : pub;
    for (const c of pending[name].splice(0)) {
      await pc.addIceCandidate(c);
    }
  }

  function startPeerConnections(iceServers) {
    closePeerConnections();
    pub = newPeerConnection("pub", iceServers);
    sub = newPeerConnection("sub", iceServers);
    sub.ontrack = (ev) => {
      const stream = ev.streams[0];
      if (!stream) {
        return;
      }
      remoteStreams.set(stream.id, stream);
      stream.onremovetrack = () => {
        if (!stream.getTracks().length) {
          remoteStreams.delete(stream.id);
          render();
        }
      };
      render();
    };
    const tracks = {};
    for (const track of localStream.getTracks()) {
      const init = { direction: "sendonly", streams: [localStream] };
      if (track.kind === "video") {
        init.sendEncodings = simulcast;
      }
      pub.addTransceiver(track, init);
      tracks[track.id] = track.kind === "audio" ? "mic" : "camera";
    }
    if (screenStream) {
      const track = screenStream.getVideoTracks()[0];
      screenSender = pub.addTransceiver(track, { direction: "sendonly", streams: [screenStream] }).sender;
      tracks[track.id] = "screen";
    }
    publish(tracks);
    send({ type: "state", audio: state.audioOn, video: state.videoOn });
  }

  async function publish(tracks) {
    if (!pub.getTransceivers().length) {
      return; // watching and listening only
    }
    await pub.setLocalDescription(await pub.createOffer());
    send({ type: "offer", pc: "pub", sdp: pub.localDescription.sdp, tracks: tracks });
  }

  function closePeerConnections() {
    for (const pc of [pub, sub]) {
      if (pc) {
        pc.close();
      }
    }
    pub = sub = null;
    pending.pub.length = pending.sub.length = 0;
    remoteStreams.clear();
    screenSender = null;
  }

  // closed decides, from the close code, whether the meeting is over for
  // this browser or whether to reconnect (codes from internal/media).
  function closed(code) {
    ws = null;
    closePeerConnections();
    const final = {
      4000: ["ended", "The meeting has ended."],
      4001: ["removed", "You were removed from the meeting."],
      4002: ["left", "You joined this meeting from another window."],
    }[code];
    if (final || state.phase === "left") {
      finish(final ? final[0] : "left", final ? final[1] : "You left the meeting.");
      return;
    }
    if (state.phase !== "reconnecting") {
      reconnectDeadline = Date.now() + graceSeconds * 1000;
      setPhase("reconnecting", "Connection lost. Reconnecting…");
    }
    if (Date.now() > reconnectDeadline) {
      finish("left", "The connection was lost. Reload the page to join again.");
      return;
    }
    reconnectTimer = setTimeout(connect, 1000);
  }

  function finish(phase, text) {
    setPhase(phase, text);
    render();
    $("room").hidden = true;
    const ended = $("ended");
    ended.textContent = text;
    ended.hidden = false;
    for (const s of [localStream, screenStream]) {
      if (s) {
        s.getTracks().forEach((t) => t.stop());
      }
    }
  }

  window.addEventListener("online", () => {
    if (state.phase === "reconnecting") {
      connect();
    }
  });

  // ---- Tiles and controls -------------------------------------------------

  function render() {
    const grid = $("grid");
    const wanted = new Map(); // tile key → {id, name, source, stream}
    const self = state.participants.find((p) => p.id === selfID) || { id: selfID, name: "You" };
    if (state.phase === "joined" || state.phase === "reconnecting") {
      wanted.set(selfID + "/camera", { id: selfID, name: self.name + " (you)", source: "camera", stream: localStream, self: true });
      if (screenStream) {
        wanted.set(selfID + "/screen", { id: selfID, name: self.name + " (your screen)", source: "screen", stream: screenStream, self: true });
      }
    }
    for (const p of state.participants) {
      if (p.id === selfID) {
        continue;
      }
      const byKind = {};
      for (const s of p.streams) {
        byKind[s.source] = remoteStreams.get(s.streamId);
      }
      wanted.set(p.id + "/camera", { id: p.id, name: p.name, source: "camera", stream: byKind.camera, audio: byKind.mic, p: p });
      if (byKind.screen) {
        wanted.set(p.id + "/screen", { id: p.id, name: p.name + " (screen)", source: "screen", stream: byKind.screen });
      }
    }
    for (const tile of [...grid.children]) {
      if (!wanted.has(tile.dataset.key)) {
        tile.remove();
      }
    }
    for (const [key, w] of wanted) {
      let tile = grid.querySelector('[data-key="' + CSS.escape(key) + '"]');
      if (!tile) {
        tile = makeTile(key, w);
        grid.append(tile);
      }
      updateTile(tile, w);
    }
    renderPeople();
  }

  function makeTile(key, w) {
    const tile = document.createElement("figure");
    tile.className = "media-tile";
    tile.dataset.key = key;
    tile.dataset.participant = w.id;
    tile.dataset.source = w.source;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // sound plays through the audio element
    const audio = document.createElement("audio");
    audio.autoplay = true;
    const caption = document.createElement("figcaption");
    tile.append(video, audio, caption);
    return tile;
  }

  function updateTile(tile, w) {
    const [video, audio, caption] = tile.children;
    if (video.srcObject !== (w.stream || null)) {
      video.srcObject = w.stream || null;
    }
    if (!w.self && audio.srcObject !== (w.audio || null)) {
      audio.srcObject = w.audio || null;
      if (w.audio) {
        watchLevel(w.id, w.audio);
      }
    }
    const videoOn = w.self ? state.videoOn || w.source === "screen" : w.stream && (!w.p || w.p.video);
    tile.classList.toggle("no-video", !videoOn);
    const muted = w.source === "camera" && (w.self ? !state.audioOn : w.p && !w.p.audio);
    const reconnecting = w.p && !w.p.connected;
    caption.textContent = w.name + (muted ? " · muted" : "") + (reconnecting ? " · reconnecting" : "");
    tile.setAttribute("aria-label", caption.textContent);
  }

  function renderPeople() {
    const list = $("people");
    list.replaceChildren();
    for (const p of state.participants) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = p.name + (p.id === selfID ? " (you)" : "") + (p.role === "host" ? " · host" : "") +
        (p.audio ? "" : " · muted");
      li.append(name);
      if (isHost && p.id !== selfID) {
        if (p.audio) {
          li.append(button("Mute", "Mute " + p.name, () => send({ type: "mute", id: p.id })));
        }
        li.append(button("Remove", "Remove " + p.name + " from the meeting", () => {
          if (confirm("Remove " + p.name + " from the meeting? They cannot rejoin unless admitted again.")) {
            send({ type: "remove", id: p.id });
          }
        }));
      }
      list.append(li);
    }
  }

  function button(text, label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  function announce(text) {
    $("status").textContent = text;
  }

  function setAudio(on, tell) {
    state.audioOn = on;
    localStream.getAudioTracks().forEach((t) => { t.enabled = on; });
    const b = $("mic");
    b.setAttribute("aria-pressed", String(!on));
    b.textContent = on ? "Mute" : "Unmute";
    if (tell !== false) {
      send({ type: "state", audio: on });
    }
    render();
  }

  function setVideo(on) {
    state.videoOn = on;
    localStream.getVideoTracks().forEach((t) => { t.enabled = on; });
    const b = $("cam");
    b.setAttribute("aria-pressed", String(!on));
    b.textContent = on ? "Stop video" : "Start video";
    send({ type: "state", video: on });
    render();
  }

  async function toggleScreen() {
    if (screenStream) {
      stopScreen();
      return;
    }
    try {
      screenStream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (err) {
      announce("Screen sharing was not started (" + err.name + ").");
      return;
    }
    const track = screenStream.getVideoTracks()[0];
    track.onended = stopScreen; // the browser's own "Stop sharing"
    if (pub) {
      screenSender = pub.addTransceiver(track, { direction: "sendonly", streams: [screenStream] }).sender;
      publish({ [track.id]: "screen" });
    }
    state.sharing = true;
    $("screen").setAttribute("aria-pressed", "true");
    $("screen").textContent = "Stop sharing";
    render();
  }

  function stopScreen() {
    if (!screenStream) {
      return;
    }
    screenStream.getTracks().forEach((t) => t.stop());
    screenStream = null;
    if (pub && screenSender) {
      pub.removeTrack(screenSender);
      screenSender = null;
      send({ type: "unpublish", source: "screen" });
      publish({});
    }
    state.sharing = false;
    $("screen").setAttribute("aria-pressed", "false");
    $("screen").textContent = "Share screen";
    render();
  }

  $("camera-select").addEventListener("change", startPreview);
  $("mic-select").addEventListener("change", startPreview);
  $("join").addEventListener("click", async () => {
    await previewReady;
    $("check").hidden = true;
    $("room").hidden = false;
    $("preview").srcObject = null;
    state.audioOn = localStream.getAudioTracks().length > 0;
    state.videoOn = localStream.getVideoTracks().length > 0;
    $("mic").disabled = !state.audioOn;
    $("cam").disabled = !state.videoOn;
    $("screen").hidden = !navigator.mediaDevices.getDisplayMedia;
    if (audioContext) {
      audioContext.resume();
    }
    connect();
    render();
  });
  $("mic").addEventListener("click", () => setAudio(!state.audioOn));
  $("cam").addEventListener("click", () => setVideo(!state.videoOn));
  $("screen").addEventListener("click", toggleScreen);
  $("leave").addEventListener("click", () => {
    setPhase("left");
    send({ type: "leave" });
    if (ws) {
      ws.close(1000);
    }
    // Leaving the media is leaving the meeting: the page's own Leave form
    // tells the lobby, and the page shows the way back in.
    const form = document.getElementById(root.dataset.leaveForm || "");
    if (form) {
      form.requestSubmit();
    }
  });
  const end = $("end");
  end.hidden = !isHost;
  end.addEventListener("click", () => {
    if (confirm("End the meeting for everyone?")) {
      send({ type: "end" });
    }
  });

  startPreview();
})();
