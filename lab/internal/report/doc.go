package report

import "strings"

// doc is the report's content, built once from the analysed results and
// rendered twice: as summary.md (assets/summary.md.tmpl) and as index.html
// (assets/index.html.tmpl). Neither rendering parses the other.
type doc struct {
	Sections []section
}

// section is a heading and the blocks under it.
type section struct {
	Level int // 1 = the title, 2 = a section, 3 = a subsection
	Title string
	// ID names the section for the HTML page's chart placement ("" = none).
	ID     string
	Blocks []block
}

// block is one of a paragraph (Lines), a bullet list (Items) or a table.
type block struct {
	// Lines are a paragraph's lines: one Markdown line each (a single
	// paragraph), one <p> each in HTML.
	Lines []text
	// List marks a bullet list, Items its items (possibly none).
	List  bool
	Items []item
	Table *table
}

// item is a bullet with an optional nested list.
type item struct {
	Text text
	Sub  []text
}

// table is a header row and data rows of plain cells.
type table struct {
	Head []string
	Rows [][]string
}

// text is a run of inline spans.
type text []span

// span is a piece of text, plain, bold, code or a link (Href, relative
// to the report's folder).
type span struct {
	Text string
	Bold bool
	Code bool
	Href string
}

// inline builds text from parts: a string is plain text, a span is kept.
func inline(parts ...any) text {
	var t text
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			t = append(t, span{Text: v})
		case span:
			t = append(t, v)
		}
	}
	return t
}

func bold(s string) span       { return span{Text: s, Bold: true} }
func code(s string) span       { return span{Text: s, Code: true} }
func link(s, href string) span { return span{Text: s, Href: href} }

// para is a paragraph of plain lines.
func para(lines ...string) block {
	b := block{}
	for _, l := range lines {
		b.Lines = append(b.Lines, inline(l))
	}
	return b
}

// mdRow renders a table row as Markdown: an empty cell is "| |".
func mdRow(cells []string) string {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range cells {
		if c == "" {
			b.WriteString(" |")
			continue
		}
		b.WriteString(" " + c + " |")
	}
	return b.String()
}

// mdRule is the Markdown header separator for n columns.
func mdRule(n int) string {
	return "|" + strings.Repeat("---|", n)
}
