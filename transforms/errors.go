package transforms

// AnalysisError is one failure inside the analysis that did not stop the run: a statistic
// that could not be computed for a cell. It carries the context of Jetstream's error log
// rows (experiment, metric, statistic, basis, segment, period).
type AnalysisError struct {
	Experiment    string
	Metric        string
	Statistic     string
	AnalysisBasis string
	Segment       string
	Period        string
	Window        int
	Message       string
	// ExceptionType classifies the failure for the logs table's exception_type column:
	// QueryError (a data source's query failed) or StatisticError.
	ExceptionType string
}

func newError(c Cell, statistic string, err error) AnalysisError {
	return AnalysisError{
		Experiment:    c.Experiment,
		Metric:        c.Metric,
		Statistic:     statistic,
		AnalysisBasis: c.Basis,
		Segment:       c.Segment,
		Period:        c.Period,
		Window:        c.Window,
		Message:       err.Error(),
		ExceptionType: "StatisticError",
	}
}
