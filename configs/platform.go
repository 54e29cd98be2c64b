package configs

// Platform is an application of Jetstream's platform_config.toml: its Glean app id and
// where its experiments' enrollments come from by default.
type Platform struct {
	AppID                string
	EnrollmentsQueryType string
}

// platforms are the applications of Jetstream's platform_config.toml: the only apps
// Jetstream analyses. monitor_cirrus has an app id (Experimenter knows it) but is commented
// out of the platform config, so its experiments are refused.
var platforms = map[string]Platform{
	"firefox_desktop": {"firefox-desktop", "normandy"},
	"fenix":           {"fenix", "glean-event"},
	"focus_android":   {"org.mozilla.focus", "glean-event"},
	"klar_android":    {"org.mozilla.klar", "glean-event"},
	"firefox_ios":     {"org.mozilla.ios.FirefoxBeta", "glean-event"},
	"focus_ios":       {"org.mozilla.ios.Focus", "glean-event"},
	"klar_ios":        {"org.mozilla.ios.Klar", "glean-event"},
}

// IsAnalysedApplication tells whether Jetstream's platform config has the application
// (Experimenter's appName); experiments of other apps fail with UnsupportedApplicationException.
func IsAnalysedApplication(appName string) bool {
	_, ok := platforms[appName]
	return ok
}

// PlatformOf returns the platform config of an application (Experimenter's appName).
func PlatformOf(appName string) (Platform, bool) {
	p, ok := platforms[appName]
	return p, ok
}
