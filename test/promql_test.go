package test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Grafana's variables, replaced by values Prometheus accepts before an expression is sent to it.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "1m", "${__rate_interval}", "1m",
	"$__interval", "1m", "${__interval}", "1m",
	"$__range", "1m", "${__range}", "1m",
	"${instance}", ".*", "$instance", ".*",
	"${domain}", ".*", "$domain", ".*",
)

var (
	promStrings   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promRanges    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promNotMetric = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan", "Inf", "NaN"}
)

// metricNames returns the metric names a PromQL expression selects: identifiers outside strings,
// label matchers, ranges and grouping clauses that are neither functions, aggregations nor
// keywords. It is no parser (Prometheus itself checks that an expression parses); it is enough
// for the expressions of shipped dashboards and rules.
func metricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var names []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		id := s[loc[0]:loc[1]]
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue // the unit of a duration or the exponent of a number (5m, 1e3)
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function or an aggregation
		}
		if slices.Contains(promNotMetric, id) || slices.Contains(names, id) {
			continue
		}
		names = append(names, id)
	}
	return names
}

func TestMetricNamesFindsEverySelectedMetricAndNothingElse(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (src_zone, verdict) (rate(meshwarden_datapath_connects_total{instance=~"$instance", verdict="DENY"}[$__rate_interval]))`: {"meshwarden_datapath_connects_total"},
		`histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m])))`:                                                                     {"a_bucket"},
		`a / on (map) group_left b > bool 0.9 or c offset 5m unless d{x="y{z}"}`:                                                         {"a", "b", "c", "d"},
		`time() - x_seconds`:                                         {"x_seconds"},
		`up{job="meshwarden"} == 0 or m < 1e3`:                       {"up", "m"},
		`sort_desc(sum without (instance) (increase(q[1h:5m])) > 0)`: {"q"},
		`instance:meshwarden_x:rate5m * 2`:                           {"instance:meshwarden_x:rate5m"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}
