-- Meetings: scheduled meetings and their invitees, personal rooms, the live
-- instances with their lobby and presence, the preferences and site settings
-- that govern them, and the outbox that sends the calendar invitations.
-- Owned by internal/meetings, except mail_outbox (internal/mail).

-- Per-site meeting settings; a site without a row has the defaults.
CREATE TABLE meeting_settings (
    site_id           bigint PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    default_time_zone text NOT NULL DEFAULT 'UTC' CHECK (length(default_time_zone) BETWEEN 1 AND 64),
    -- 'all': every user may schedule; 'host-role': only users whose role is
    -- host (attendees created by "Create new accounts as attendees" join only).
    hosts             text NOT NULL DEFAULT 'all' CHECK (hosts IN ('all', 'host-role')),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- A user's time zone; no row means the site's default.
CREATE TABLE user_preferences (
    site_id    bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL,
    time_zone  text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (site_id, user_id),
    FOREIGN KEY (site_id, user_id) REFERENCES users (site_id, id) ON DELETE CASCADE
);

-- Personal rooms: created once per user and kept, so /meet/<room> never
-- changes under someone who shared it.
CREATE TABLE personal_rooms (
    site_id        bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    user_id        bigint NOT NULL,
    room           text NOT NULL CHECK (room ~ '^[a-z0-9]([a-z0-9.-]{0,78}[a-z0-9])?$'),
    guests_allowed boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (site_id, user_id),
    UNIQUE (site_id, room),
    FOREIGN KEY (site_id, user_id) REFERENCES users (site_id, id) ON DELETE CASCADE
);

CREATE TABLE meetings (
    site_id          bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    -- 9 to 11 random digits: what people type and what /j/<number> carries.
    number           text NOT NULL CHECK (number ~ '^[1-9][0-9]{8,10}$'),
    host_user_id     bigint NOT NULL,
    -- The host's name and address as they were when last scheduled or
    -- edited: the ORGANIZER of every invitation sent since.
    host_name        text NOT NULL DEFAULT '',
    host_email       text NOT NULL,
    topic            text NOT NULL CHECK (length(topic) BETWEEN 1 AND 200),
    agenda           text NOT NULL DEFAULT '' CHECK (length(agenda) <= 5000),
    -- The first occurrence as an instant, and the zone the host entered it
    -- in: recurrences repeat at that zone's wall-clock time.
    start_utc        timestamptz NOT NULL,
    time_zone        text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    duration_minutes int NOT NULL CHECK (duration_minutes BETWEEN 15 AND 1440),
    -- RFC 5545 RRULE value without the "RRULE:" prefix; '' for one-off.
    rrule            text NOT NULL DEFAULT '' CHECK (length(rrule) <= 500),
    -- When the last occurrence ends (overrides included): recurrences are
    -- bounded (UNTIL or COUNT <= 100), so listings can skip over series
    -- that are over without expanding them.
    ends_utc         timestamptz NOT NULL,
    guests_allowed   boolean NOT NULL DEFAULT false,
    cancelled_at     timestamptz,
    -- iCalendar SEQUENCE: incremented on every change sent to invitees.
    sequence         int NOT NULL DEFAULT 0 CHECK (sequence >= 0),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (site_id, id),
    UNIQUE (site_id, number),
    FOREIGN KEY (site_id, host_user_id) REFERENCES users (site_id, id) ON DELETE CASCADE
);
CREATE INDEX meetings_host ON meetings (site_id, host_user_id, ends_utc);
CREATE INDEX meetings_window ON meetings (site_id, ends_utc);
CREATE INDEX meetings_topic ON meetings (site_id, lower(topic) text_pattern_ops);

-- One occurrence of a series changed or cancelled ("this occurrence"):
-- original_start_utc is its RECURRENCE-ID.
CREATE TABLE meeting_overrides (
    site_id            bigint NOT NULL,
    meeting_id         bigint NOT NULL,
    original_start_utc timestamptz NOT NULL,
    cancelled          boolean NOT NULL DEFAULT false,
    start_utc          timestamptz NOT NULL,
    duration_minutes   int NOT NULL CHECK (duration_minutes BETWEEN 15 AND 1440),
    topic              text NOT NULL CHECK (length(topic) BETWEEN 1 AND 200),
    agenda             text NOT NULL DEFAULT '' CHECK (length(agenda) <= 5000),
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (site_id, meeting_id, original_start_utc),
    FOREIGN KEY (site_id, meeting_id) REFERENCES meetings (site_id, id) ON DELETE CASCADE
);

CREATE TABLE meeting_invitees (
    site_id    bigint NOT NULL,
    meeting_id bigint NOT NULL,
    email      text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    PRIMARY KEY (site_id, meeting_id, email),
    FOREIGN KEY (site_id, meeting_id) REFERENCES meetings (site_id, id) ON DELETE CASCADE
);
-- "Meetings I am invited to" on the home page.
CREATE INDEX meeting_invitees_email ON meeting_invitees (site_id, email);

-- A live meeting: a scheduled meeting or a personal room from the moment its
-- host starts it until they end it.
CREATE TABLE meeting_instances (
    site_id      bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    meeting_id   bigint,
    room_user_id bigint,
    -- Who controls it: the meeting's host or the room's owner.
    host_user_id bigint NOT NULL,
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    guests_allowed boolean NOT NULL,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    locked       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (site_id, id),
    CHECK ((meeting_id IS NULL) <> (room_user_id IS NULL)),
    FOREIGN KEY (site_id, meeting_id) REFERENCES meetings (site_id, id) ON DELETE CASCADE,
    FOREIGN KEY (site_id, room_user_id) REFERENCES personal_rooms (site_id, user_id) ON DELETE CASCADE
);
-- At most one live instance of a meeting or a room.
CREATE UNIQUE INDEX meeting_instances_live_meeting ON meeting_instances (site_id, meeting_id) WHERE ended_at IS NULL AND meeting_id IS NOT NULL;
CREATE UNIQUE INDEX meeting_instances_live_room ON meeting_instances (site_id, room_user_id) WHERE ended_at IS NULL AND room_user_id IS NOT NULL;
CREATE INDEX meeting_instances_host_ended ON meeting_instances (site_id, host_user_id, ended_at DESC);
CREATE INDEX meeting_instances_ended ON meeting_instances (site_id, ended_at DESC) WHERE ended_at IS NOT NULL;

-- Everyone who came to an instance: signed-in users of the site, or guests
-- known by the name they typed and a ticket (only its SHA-256 is stored).
-- The same rows answer "who is here now" (a fresh heartbeat) and "who
-- attended" (admitted_at set) for Past meetings.
CREATE TABLE meeting_participants (
    site_id      bigint NOT NULL,
    instance_id  bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    user_id      bigint,
    guest_name   text CHECK (guest_name IS NULL OR length(guest_name) BETWEEN 1 AND 100),
    guest_email  text NOT NULL DEFAULT '' CHECK (length(guest_email) <= 254),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    ticket_hash  bytea,
    state        text NOT NULL CHECK (state IN ('lobby', 'admitted', 'removed', 'left')),
    joined_at    timestamptz NOT NULL,
    admitted_at  timestamptz,
    left_at      timestamptz,
    heartbeat_at timestamptz NOT NULL,
    PRIMARY KEY (site_id, instance_id, id),
    CHECK ((user_id IS NULL) <> (guest_name IS NULL)),
    CHECK ((guest_name IS NULL) = (ticket_hash IS NULL)),
    FOREIGN KEY (site_id, instance_id) REFERENCES meeting_instances (site_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX meeting_participants_user ON meeting_participants (site_id, instance_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX meeting_participants_ticket ON meeting_participants (site_id, ticket_hash) WHERE ticket_hash IS NOT NULL;
CREATE INDEX meeting_participants_attended ON meeting_participants (site_id, user_id, instance_id) WHERE user_id IS NOT NULL;

-- Mail waiting to be sent, sent, given up on, or kept for development when
-- no SMTP server is configured. Owned by internal/mail. One row per
-- recipient, so one refusing mailbox does not hold back the others.
CREATE TABLE mail_outbox (
    site_id         bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    -- The meeting it is about, so its host can see a send that failed.
    meeting_id      bigint,
    recipient       text NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
    subject         text NOT NULL CHECK (length(subject) <= 998),
    text_body       text NOT NULL,
    html_body       text NOT NULL DEFAULT '',
    calendar        bytea,
    calendar_method text NOT NULL DEFAULT '' CHECK (calendar_method IN ('', 'REQUEST', 'CANCEL')),
    state           text NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'kept')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    PRIMARY KEY (site_id, id)
);
-- The sender's claim: due rows across every site, oldest first.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state = 'queued';
CREATE INDEX mail_outbox_meeting ON mail_outbox (site_id, meeting_id) WHERE meeting_id IS NOT NULL;
CREATE INDEX mail_outbox_recent ON mail_outbox (site_id, created_at DESC);
