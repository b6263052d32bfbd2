package session

import (
	"sync"

	"github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
)

// userAgents is the User-Agent parser, built on first use (its trie takes
// tens of milliseconds to build, from tables in the library) and read-only
// after: parsing needs no lock.
var userAgents = sync.OnceValue(useragent.NewParser)

// Browser names the browser a session signed in from, as people know it:
// "Firefox 120 on macOS", "Chrome 131 on Linux", from its User-Agent; "An
// unknown browser" when the User-Agent says nothing a person would
// recognise (a script, an empty header).
func (o Origin) Browser() string {
	agent := userAgents().Parse(o.UserAgent)
	name := string(agent.Browser())
	if name == "" {
		return "An unknown browser"
	}
	if major := agent.BrowserVersionMajor(); major != "" {
		name += " " + major
	}
	switch os := agent.OS(); os {
	case "":
	case agents.OSMacOS:
		name += " on macOS" // as Apple spells it
	default:
		name += " on " + string(os)
	}
	return name
}
