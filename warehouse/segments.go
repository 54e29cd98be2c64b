package warehouse

import (
	"fmt"
	"strings"
	"time"
)

// Segment is a boolean per-client property decided at enrollment (mozanalysis' Segment): an
// aggregate over the segment data source's rows from enrollment_date + WindowStart to
// enrollment_date + WindowEnd. Each segment becomes a BOOL column of the enrollments table.
type Segment struct {
	Name             string
	SelectExpression string // BigQuery SQL aggregate, e.g. COALESCE(LOGICAL_OR(is_regular_user_v3), FALSE)
	DataSource       SegmentSource
}

// SegmentSource is where segment rows come from.
type SegmentSource struct {
	Name                 string
	FromExpression       string
	ClientIDColumn       string
	GroupIDColumn        string // the id column for the profile_group_id analysis unit
	SubmissionDateColumn string
	WindowStart          int // days after each client's enrollment date
	WindowEnd            int
}

// segmentSubqueries renders one subquery per segment data source, as mozanalysis'
// SegmentDataSource.build_query: per enrolled client, the segments' aggregates over its rows
// in the source's window. The date bounds over all clients let the warehouse prune.
func segmentSubqueries(d Dialect, segments []Segment, first, last time.Time, unit string) (joins, columns []string) {
	var order []string
	bySource := map[string][]Segment{}
	for _, s := range segments {
		if _, ok := bySource[s.DataSource.Name]; !ok {
			order = append(order, s.DataSource.Name)
		}
		bySource[s.DataSource.Name] = append(bySource[s.DataSource.Name], s)
	}
	for i, name := range order {
		segs := bySource[name]
		src := segs[0].DataSource
		alias := fmt.Sprintf("seg_%d", i)
		date := "ds." + src.SubmissionDateColumn
		var selects []string
		for _, s := range segs {
			selects = append(selects, fmt.Sprintf("            %s AS %s", d.Rewrite(s.SelectExpression), d.Ident(s.Name)))
			columns = append(columns, fmt.Sprintf("%s.%s", alias, d.Ident(s.Name)))
		}
		joins = append(joins, fmt.Sprintf(`LEFT JOIN (
        SELECT
            e.analysis_id, e.branch,
%s
        FROM raw_enrollments e
        LEFT JOIN %s ds
            ON ds.%s = e.analysis_id
            AND %s BETWEEN %s AND %s
            AND %s BETWEEN %s AND %s
        GROUP BY e.analysis_id, e.branch
    ) %s USING (analysis_id, branch)`,
			strings.Join(selects, ",\n"),
			d.Rewrite(src.FromExpression), idColumn(unit, src.ClientIDColumn, src.GroupIDColumn),
			date, d.Date(first.AddDate(0, 0, src.WindowStart)), d.Date(last.AddDate(0, 0, src.WindowEnd)),
			date, d.AddDays("e.enrollment_date", fmt.Sprint(src.WindowStart)), d.AddDays("e.enrollment_date", fmt.Sprint(src.WindowEnd)),
			alias))
	}
	return joins, columns
}

// idColumn is the data-source column holding the analysis unit's id.
func idColumn(unit, clientID, groupID string) string {
	if unit == "profile_group_id" {
		if groupID == "" {
			return "profile_group_id"
		}
		return groupID
	}
	return clientID
}
