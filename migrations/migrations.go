// Package migrations embeds the numbered SQL migrations so the portal binary
// carries its own schema. Each domain package owns the tables its files create.
package migrations

import "embed"

// FS holds every NNNN_name.up.sql and NNNN_name.down.sql file.
//
//go:embed *.sql
var FS embed.FS
