// Package version reports what a lafs binary is: its own version, the Go
// toolchain, the source revision and every dependency module, read from the
// build information the Go linker embeds. It prints no warning unless
// something is actually wrong, and then a specific one.
package version

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
)

// Version is the release of this project. Builds from a checkout carry the
// "-dev" suffix.
const Version = "0.1.0-dev"

// App is the application name used in version lines ("lafs/0.1.0-dev").
const App = "lafs"

// Revision may be set at link time (-X github.com/lafs/lafs/internal/version.Revision=...)
// when the build has no VCS stamp (go build -buildvcs=false).
var Revision = ""

// Dep is one module the binary was built with.
type Dep struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Replace string `json:"replace,omitempty"`
}

// Info is the whole version report.
type Info struct {
	App       string   `json:"app"`
	Version   string   `json:"version"`
	GoVersion string   `json:"go"`
	OS        string   `json:"os"`
	Arch      string   `json:"arch"`
	Revision  string   `json:"revision"`
	Modified  bool     `json:"modified"`
	Path      string   `json:"path"`
	Deps      []Dep    `json:"dependencies"`
	Warnings  []string `json:"warnings"`
}

// Line is the one-line form in Tahoe's style: "lafs/0.1.0-dev".
func Line() string { return App + "/" + Version }

// Read gathers the report for the running binary.
func Read() Info {
	info := Info{
		App:       App,
		Version:   Version,
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		Revision:  Revision,
		Deps:      []Dep{},
		Warnings:  []string{},
	}
	if exe, err := os.Executable(); err == nil {
		if p, err := filepath.EvalSymlinks(exe); err == nil {
			exe = p
		}
		info.Path = exe
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		info.Warnings = append(info.Warnings, "this binary carries no Go build information: dependency versions are unknown")
		return info
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if info.Revision == "" {
				info.Revision = s.Value
			}
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		dep := Dep{Path: d.Path, Version: d.Version}
		if d.Replace != nil {
			dep.Replace = d.Replace.Path + "@" + d.Replace.Version
			info.Warnings = append(info.Warnings, "dependency "+d.Path+" is replaced by "+dep.Replace)
		}
		if d.Sum == "" && d.Replace == nil {
			info.Warnings = append(info.Warnings, "dependency "+d.Path+" has no checksum in the build information")
		}
		info.Deps = append(info.Deps, dep)
	}
	if info.Revision == "" {
		info.Revision = "unknown"
	}
	return info
}
