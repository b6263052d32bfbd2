package web

import (
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// CSV writes a CSV download row by row as it is produced (an export of
// thousands of rows is never held in memory), flushing to the client every
// csvFlushRows rows. Cells are guarded against formula injection: a cell a
// spreadsheet would run as a formula (starting with = + - @, or a tab or
// carriage return that some strip first) is prefixed with a single quote,
// as OWASP's "CSV Injection" advises, so text typed by anyone (a NameID, a
// name from the identity provider) is shown, never evaluated.
type CSV struct {
	w       *csv.Writer
	flusher http.Flusher
	rows    int
}

const csvFlushRows = 500

// NewCSV starts a CSV download named filename with the header row.
func NewCSV(w http.ResponseWriter, filename string, header ...string) (*CSV, error) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	w.Header().Set("Cache-Control", "no-store")
	c := &CSV{w: csv.NewWriter(w)}
	c.flusher, _ = w.(http.Flusher)
	return c, c.Row(header...)
}

// Row writes one row.
func (c *CSV) Row(cells ...string) error {
	guarded := make([]string, len(cells))
	for i, cell := range cells {
		guarded[i] = GuardCell(cell)
	}
	if err := c.w.Write(guarded); err != nil {
		return fmt.Errorf("write CSV row: %w", err)
	}
	c.rows++
	if c.rows%csvFlushRows == 0 {
		c.w.Flush()
		if c.flusher != nil {
			c.flusher.Flush()
		}
	}
	return nil
}

// Close writes what is buffered.
func (c *CSV) Close() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// GuardCell is cell as a spreadsheet shows it as text: prefixed with ' when
// it would otherwise be read as a formula.
func GuardCell(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
