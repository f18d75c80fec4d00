// Package spreadsheet writes CSV exports that spreadsheets open safely: a
// cell that a spreadsheet would run as a formula (starting with =, +, -, @,
// a tab or a carriage return) gets a leading apostrophe. The REST layer and
// the portal both export through it.
package spreadsheet

import (
	"encoding/csv"
	"io"
	"strings"
)

// Cell is s, made inert when a spreadsheet would read it as a formula.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Write writes header and rows as CSV, every cell through Cell.
func Write(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = Cell(c)
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
