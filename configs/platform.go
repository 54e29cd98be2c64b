package configs

// analysedApplications are the applications of Jetstream's platform_config.toml: the only
// apps Jetstream analyses. monitor_cirrus has an app id (Experimenter knows it) but is
// commented out of the platform config, so its experiments are refused.
var analysedApplications = map[string]bool{
	"firefox_desktop": true, "fenix": true, "focus_android": true, "klar_android": true,
	"firefox_ios": true, "focus_ios": true, "klar_ios": true,
}

// IsAnalysedApplication tells whether Jetstream's platform config has the application
// (Experimenter's appName); experiments of other apps fail with UnsupportedApplicationException.
func IsAnalysedApplication(appName string) bool { return analysedApplications[appName] }
