package configs

import "fmt"

// Period is an analysis period, named as in Jetstream's table names
// (statistics_<slug>_<period>_<window>).
type Period string

// The analysis periods Jetstream knows.
const (
	Day                 Period = "day"
	Week                Period = "week"
	Days28              Period = "days28"
	Overall             Period = "overall"
	PreenrollmentWeek   Period = "preenrollment_week"
	PreenrollmentDays28 Period = "preenrollment_days28"
)

// Periods lists every period in Jetstream's order.
var Periods = []Period{Day, Week, Days28, Overall, PreenrollmentWeek, PreenrollmentDays28}

// listKeys maps the [metrics] list keys of a config to their period. Note the spelling
// traps kept from metric-hub: "28_day" (not "days28") and "preenrollment_weekly".
var listKeys = map[string]Period{
	"daily":                Day,
	"weekly":               Week,
	"28_day":               Days28,
	"overall":              Overall,
	"preenrollment_weekly": PreenrollmentWeek,
	"preenrollment_days28": PreenrollmentDays28,
}

// Suffix is the period's name in views and exported JSON files
// (statistics_<slug>_<suffix>.json).
func (p Period) Suffix() string {
	switch p {
	case Day:
		return "daily"
	case Week:
		return "weekly"
	case PreenrollmentWeek:
		return "preenrollment_weekly"
	}
	return string(p)
}

// ParsePeriod reads a period by its table name (e.g. "week") or its suffix (e.g. "weekly").
func ParsePeriod(s string) (Period, error) {
	for _, p := range Periods {
		if s == string(p) || s == p.Suffix() {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown analysis period %q (want one of day, week, days28, overall, preenrollment_week, preenrollment_days28)", s)
}
