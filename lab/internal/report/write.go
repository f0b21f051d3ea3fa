package report

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Write analyses r and writes results.json, summary.md, the PNG charts and
// index.html into dir.
func Write(dir string, r *Results) error {
	Analyze(r)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	md := Markdown(r)
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	charts, err := Charts(r)
	if err != nil {
		return fmt.Errorf("write charts: %w", err)
	}
	for _, c := range charts {
		if err := os.WriteFile(filepath.Join(dir, c.File), c.PNG, 0o644); err != nil {
			return fmt.Errorf("write charts: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(HTML(md, charts)), 0o644); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

// ReadResults reads a results.json back.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	return &r, nil
}

const css = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{background:#f5f5f5;padding:0 .2em;font-size:.9em;word-break:break-all}h1{border-bottom:2px solid #333}
h2{border-bottom:1px solid #ccc;margin-top:2em}figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.4em}img{max-width:100%;border:1px solid #eee}`

// HTML renders the report page: summary.md's content with the charts
// inline as base64 PNGs, so the file works offline on its own.
func HTML(md string, charts []Chart) string {
	var figs strings.Builder
	if len(charts) > 0 {
		figs.WriteString("<h2>Charts</h2>\n<p>Sync in blue, async in orange; solid lines are medians or rates, dashed lines p95, queue lengths, lags or thresholds.</p>\n")
	}
	for _, c := range charts {
		fmt.Fprintf(&figs, "<figure><figcaption>%s</figcaption><img alt=\"%s\" src=\"data:image/png;base64,%s\"></figure>\n",
			html.EscapeString(c.Title), html.EscapeString(c.File), base64.StdEncoding.EncodeToString(c.PNG))
	}
	body := markdownToHTML(md)
	marker := "<h2>Experiments 1–4"
	if i := strings.Index(body, marker); i >= 0 {
		body = body[:i] + figs.String() + body[i:]
	} else {
		body += figs.String()
	}
	return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>predictlab — lab report</title><style>" + css +
		"</style></head><body>\n" + body + "</body></html>\n"
}

var (
	boldRe = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	codeRe = regexp.MustCompile("`([^`]+)`")
)

func inline(s string) string {
	s = html.EscapeString(s)
	s = codeRe.ReplaceAllString(s, "<code>$1</code>")
	return boldRe.ReplaceAllString(s, "<strong>$1</strong>")
}

// markdownToHTML converts the subset of Markdown that Markdown() writes:
// headings, paragraphs, bullet lists (one level of nesting) and tables.
func markdownToHTML(md string) string {
	var b strings.Builder
	lines := strings.Split(md, "\n")
	inList, inSub := false, false
	closeLists := func() {
		if inSub {
			b.WriteString("</ul></li>\n")
			inSub = false
		}
		if inList {
			b.WriteString("</ul>\n")
			inList = false
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "#"):
			closeLists()
			level := len(l) - len(strings.TrimLeft(l, "#"))
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", level, inline(strings.TrimSpace(l[level:])), level)
		case strings.HasPrefix(l, "  - "):
			if !inSub {
				b.WriteString("<ul>\n")
				inSub = true
			}
			fmt.Fprintf(&b, "<li>%s</li>\n", inline(l[4:]))
		case strings.HasPrefix(l, "- "):
			if inSub {
				b.WriteString("</ul>\n")
				inSub = false
			}
			if !inList {
				b.WriteString("<ul>\n")
				inList = true
			}
			fmt.Fprintf(&b, "<li>%s\n", inline(l[2:]))
		case strings.HasPrefix(l, "|"):
			closeLists()
			b.WriteString("<table>\n")
			header := true
			for ; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
				cells := strings.Split(strings.Trim(lines[i], "|"), "|")
				if strings.HasPrefix(lines[i], "|---") {
					continue
				}
				tag := "td"
				if header {
					tag = "th"
				}
				b.WriteString("<tr>")
				for _, c := range cells {
					fmt.Fprintf(&b, "<%s>%s</%s>", tag, inline(strings.TrimSpace(c)), tag)
				}
				b.WriteString("</tr>\n")
				header = false
			}
			i--
			b.WriteString("</table>\n")
		case strings.TrimSpace(l) == "":
			closeLists()
		default:
			closeLists()
			fmt.Fprintf(&b, "<p>%s</p>\n", inline(l))
		}
	}
	closeLists()
	return b.String()
}
