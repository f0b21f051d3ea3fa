// Package report renders a lab run's report: results.json, summary.md,
// the PNG charts and a self-contained index.html, from analysed
// results.Results.
//
// The content is laid out once, one function per section (sections.go),
// into a small document model (doc.go) that two embedded templates render:
// assets/summary.md.tmpl (text/template) and assets/index.html.tmpl
// (html/template, which escapes every value). Write renders a finished
// run; Rebuild renders it again from the run's folder alone, byte for byte.
// The package imports no orchestration: only results and analysis.
package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"predictlab/lab/internal/analysis"
	"predictlab/lab/internal/results"
)

var (
	//go:embed assets/summary.md.tmpl
	summaryTmpl string
	//go:embed assets/index.html.tmpl
	indexTmpl string
	//go:embed assets/report.css
	reportCSS string
)

var (
	mdTemplate = template.Must(template.New("summary.md").Funcs(template.FuncMap{
		"hashes": func(n int) string { return strings.Repeat("#", n) },
		"row":    mdRow,
		"rule":   mdRule,
	}).Parse(summaryTmpl))
	htmlTemplate = htmltemplate.Must(htmltemplate.New("index.html").Parse(indexTmpl))
)

// Write analyses r and writes results.json, summary.md, the PNG charts and
// index.html into dir.
func Write(dir string, r *results.Results) error {
	if err := WriteResults(dir, r); err != nil {
		return err
	}
	return render(dir, r)
}

// WriteResults analyses r and writes results.json only: everything a
// report is rebuilt from, without rendering it.
func WriteResults(dir string, r *results.Results) error {
	analysis.Analyze(r)
	b, err := results.Marshal(r)
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.FileName), b, 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// Rebuild rewrites a finished run's summary.md, charts and index.html from
// its folder alone: results.json, with each experiment's statistics read
// again from the CSV files beside it (where they exist). The output is
// byte-identical to the run's own; results.json is left as it is.
func Rebuild(dir string) error {
	r, err := results.Read(filepath.Join(dir, results.FileName))
	if err != nil {
		return err
	}
	for _, t := range r.Targets {
		for _, e := range t.Experiments {
			prefix := filepath.Join(dir, e.File)
			if _, err := os.Stat(prefix + "_stats.csv"); err != nil {
				continue // the experiment left no files (it failed to start): keep what results.json says
			}
			if err := results.ReadFiles(prefix, e, r.Settings.LoadgenFullHistory); err != nil {
				return fmt.Errorf("rebuild report: %w", err)
			}
		}
	}
	analysis.Analyze(r)
	return render(dir, r)
}

// render writes summary.md, the charts and index.html for analysed results.
func render(dir string, r *results.Results) error {
	charts, err := Charts(r)
	if err != nil {
		return fmt.Errorf("write charts: %w", err)
	}
	md, err := Markdown(r, charts)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	for _, c := range charts {
		if err := os.WriteFile(filepath.Join(dir, c.File), c.PNG, 0o644); err != nil {
			return fmt.Errorf("write charts: %w", err)
		}
	}
	page, err := HTML(r, charts)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), page, 0o644); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

// Markdown renders summary.md, with the charts (written beside it) linked where
// index.html shows them inline. It reads r.Targets[i].Analysis, so call
// analysis.Analyze first.
func Markdown(r *results.Results, charts []Chart) (string, error) {
	var b strings.Builder
	if err := mdTemplate.Execute(&b, struct {
		Doc    doc
		Charts []Chart
	}{buildDoc(r), charts}); err != nil {
		return "", fmt.Errorf("render summary: %w", err)
	}
	return b.String(), nil
}

// chartView is a chart as the page shows it.
type chartView struct {
	File, Title, Caption string
	Src                  htmltemplate.URL
}

// HTML renders index.html: the summary's content with the charts inline as
// base64 PNGs, so the file works offline on its own.
func HTML(r *results.Results, charts []Chart) ([]byte, error) {
	views := make([]chartView, 0, len(charts))
	for _, c := range charts {
		// Our own PNG bytes: a data URL is safe here.
		src := htmltemplate.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG)) //nolint:gosec
		views = append(views, chartView{File: c.File, Title: c.Title, Caption: c.Caption, Src: src})
	}
	var b bytes.Buffer
	err := htmlTemplate.Execute(&b, struct {
		CSS    htmltemplate.CSS
		Doc    doc
		Charts []chartView
	}{htmltemplate.CSS(reportCSS), buildDoc(r), views}) //nolint:gosec // our own embedded stylesheet
	if err != nil {
		return nil, fmt.Errorf("render index: %w", err)
	}
	return b.Bytes(), nil
}
