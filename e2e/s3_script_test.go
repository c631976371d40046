package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/lafs/lafs/pkg/storage/backend/s3/s3test"
	"github.com/rogpeppe/go-internal/testscript"
)

// gwKey and gwHolder carry a script's versitygw between commands.
type gwKey struct{}

type gwHolder struct{ srv *s3test.Server }

// condition adds [versitygw] to the scripts: true when the S3 server the
// S3 scripts run is on PATH. Under CI its absence is an error, so those
// scripts fail rather than skip there.
func condition(cond string) (bool, error) {
	if cond != "versitygw" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	return s3test.Available()
}

// cmdVersitygw is the scripts' S3 server: 'versitygw start' runs one on a
// free port of 127.0.0.1 and sets S3_URL, S3_REGION, S3_ACCESS_KEY_ID and
// S3_DIR (its POSIX directory, a directory per bucket), with the secret
// key in $WORK/s3secret; 'versitygw stop' stops it and 'versitygw restart'
// brings it back on the same address, data kept. It is stopped when the
// script ends.
func cmdVersitygw(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: versitygw start|stop|restart")
	}
	h := ts.Value(gwKey{}).(*gwHolder)
	srv := h.srv
	switch args[0] {
	case "start":
		if srv != nil {
			ts.Fatalf("versitygw is already running")
		}
		bin, err := exec.LookPath(s3test.Binary)
		ts.Check(err)
		srv, err = s3test.StartIn(bin, ts.MkAbs("versitygw"))
		ts.Check(err)
		ts.Defer(srv.Close)
		ts.Setenv("S3_URL", srv.URL)
		ts.Setenv("S3_REGION", srv.Region)
		ts.Setenv("S3_ACCESS_KEY_ID", srv.AccessKeyID)
		ts.Setenv("S3_DIR", srv.Dir)
		ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), "s3secret"), []byte(srv.SecretAccessKey+"\n"), 0o600))
		h.srv = srv
	case "stop":
		if srv == nil {
			ts.Fatalf("versitygw is not running")
		}
		srv.StopServer()
	case "restart":
		if srv == nil {
			ts.Fatalf("versitygw was never started")
		}
		ts.Check(srv.RestartServer())
	default:
		ts.Fatalf("usage: versitygw start|stop|restart")
	}
}
