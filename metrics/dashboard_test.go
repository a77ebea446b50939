package metrics

// dashboard_test.go: the example Grafana dashboard (docs/grafana-deskguard.json)
// stays true to the package — every PromQL expression in its panels and
// its variables names only metrics a desk's registry serves (a histogram
// as its _bucket, _sum or _count series) and only labels those metrics
// carry, so a renamed metric or label fails here rather than as an empty
// panel on a desk's screen.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

const dashboardFile = "../docs/grafana-deskguard.json"

// series are the series names a registry serves, each with its label
// names: a histogram family X as X_bucket (with le), X_sum and X_count.
func series(t *testing.T) map[string]map[string]bool {
	t.Helper()
	reg, lat := newTestRegistry(t, DeskOptions{Desk: sampleDesk(), StreamClients: func() int { return 1 },
		OutboxLag: func() uint64 { return 0 }, FirmUp: func() bool { return true }})
	lat.GateChecked(time.Microsecond)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	add := func(name string, labels map[string]bool) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for l := range labels {
			out[name][l] = true
		}
	}
	for _, f := range fams {
		labels := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = true
			}
		}
		if f.GetType() == dto.MetricType_HISTOGRAM {
			add(f.GetName()+"_sum", labels)
			add(f.GetName()+"_count", labels)
			labels["le"] = true
			add(f.GetName()+"_bucket", labels)
			continue
		}
		add(f.GetName(), labels)
	}
	return out
}

// promql words that are not metric names: keywords and the aggregation
// operators (which may be followed by "by (…)" rather than "(").
var promqlWords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
	"group_right": true, "and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"sum": true, "avg": true, "min": true, "max": true, "count": true, "group": true, "stddev": true, "stdvar": true,
	"topk": true, "bottomk": true, "quantile": true, "count_values": true, "limitk": true, "limit_ratio": true}

// exprRefs returns the metric names an expression selects, each with the
// label names its {…} matchers use, and the label names of its by (…) /
// without (…) clauses. A word followed by "(" is a function or an
// aggregation; strings and [range] durations are skipped.
func exprRefs(expr string) (metrics map[string][]string, grouping []string) {
	metrics = map[string][]string{}
	isWord := func(c byte, first bool) bool {
		return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
	}
	var last string // the last metric name seen, for a {…} after it
	i := 0
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '[':
			i += strings.IndexByte(expr[i:], ']') + 1
		case c == '{':
			end := i + strings.IndexByte(expr[i:], '}')
			for _, m := range strings.Split(expr[i+1:end], ",") {
				name := strings.TrimSpace(m)
				if k := strings.IndexAny(name, "=!~"); k >= 0 {
					name = strings.TrimSpace(name[:k])
				}
				if name != "" && last != "" {
					metrics[last] = append(metrics[last], name)
				}
			}
			i = end + 1
		case isWord(c, true):
			j := i
			for j < len(expr) && isWord(expr[j], false) {
				j++
			}
			w := expr[i:j]
			k := j
			for k < len(expr) && expr[k] == ' ' {
				k++
			}
			switch {
			case (w == "by" || w == "without" || w == "on" || w == "ignoring" || w == "group_left" || w == "group_right") &&
				k < len(expr) && expr[k] == '(':
				end := k + strings.IndexByte(expr[k:], ')')
				for _, l := range strings.Split(expr[k+1:end], ",") {
					grouping = append(grouping, strings.TrimSpace(l))
				}
				j, last = end+1, ""
			case promqlWords[w]:
				last = ""
			case k < len(expr) && expr[k] == '(':
				last = "" // a function or an aggregation
			default:
				if _, ok := metrics[w]; !ok {
					metrics[w] = nil
				}
				last = w
			}
			i = j
		default:
			if c != ' ' {
				last = ""
			}
			i++
		}
	}
	return metrics, grouping
}

// dashboardExprs returns every PromQL expression of the dashboard: the
// panels' targets (rows' nested panels too) and the query variables'
// label_values(metric, label) definitions, by where each is.
func dashboardExprs(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	type target struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	}
	type panel struct {
		Title   string   `json:"title"`
		Type    string   `json:"type"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var d struct {
		Title      string  `json:"title"`
		UID        string  `json:"uid"`
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: title %q, uid %q, %d panels: not a dashboard", dashboardFile, d.Title, d.UID, len(d.Panels))
	}
	out := map[string]string{}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q: no query", p.Title)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q target %s: empty expr", p.Title, tg.RefID)
				}
				out["panel "+p.Title+" "+tg.RefID] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		args, ok := strings.CutPrefix(v.Definition, "label_values(")
		if !ok {
			t.Errorf("variable %s: %q: want label_values(metric, label)", v.Name, v.Definition)
			continue
		}
		metric, label, _ := strings.Cut(strings.TrimSuffix(args, ")"), ",")
		out["variable "+v.Name] = strings.TrimSpace(metric) + " by (" + strings.TrimSpace(label) + ")"
	}
	return out
}

func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	served := series(t)
	exprs := dashboardExprs(t, raw)
	used := map[string]bool{}
	for where, expr := range exprs {
		ms, grouping := exprRefs(expr)
		if len(ms) == 0 {
			t.Errorf("%s: %q names no metric", where, expr)
		}
		var labels []string
		for m, ls := range ms {
			have, ok := served[m]
			if !ok {
				t.Errorf("%s: %q: metric %s is not served by the package's registry", where, expr, m)
				continue
			}
			used[m] = true
			for _, l := range ls {
				if !have[l] {
					t.Errorf("%s: %q: %s has no label %q", where, expr, m, l)
				}
			}
			for l := range have {
				labels = append(labels, l)
			}
		}
		for _, l := range grouping {
			if !slices.Contains(labels, l) {
				t.Errorf("%s: %q: grouped by %q, which none of its metrics carries", where, expr, l)
			}
		}
	}
	// Every deskguard_ family is on the dashboard somewhere.
	for name := range served {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if !strings.HasPrefix(name, "deskguard_") {
			continue
		}
		if !used[name] && !used[base+"_bucket"] && !used[base+"_sum"] && !used[base+"_count"] && !used[base] {
			t.Errorf("%s is served but on no panel of %s", name, dashboardFile)
		}
	}
}

// TestExprRefs pins the expression reader the dashboard test relies on:
// functions, aggregations, strings, ranges and grouping are not metrics.
func TestExprRefs(t *testing.T) {
	ms, g := exprRefs(`histogram_quantile(0.99, sum by (le, trigger) (rate(deskguard_kill_sent_seconds_bucket{trigger!="x", account=~"$a"}[5m]))) > 0 and on (trigger) up`)
	if len(ms) != 2 || !slices.Equal(ms["deskguard_kill_sent_seconds_bucket"], []string{"trigger", "account"}) || ms["up"] != nil {
		t.Fatalf("metrics %v", ms)
	}
	if !slices.Equal(g, []string{"le", "trigger", "trigger"}) {
		t.Fatalf("grouping %v", g)
	}
	if ms, _ := exprRefs(`rate(nope_total[1m]) / 60`); len(ms) != 1 || ms["nope_total"] != nil {
		t.Fatalf("%v", ms)
	}
}
