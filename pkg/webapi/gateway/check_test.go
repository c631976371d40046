package gateway_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lafs/lafs/internal/checkcli"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/deep"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/localgrid/localgridtest"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/webapi/deepops"
	"github.com/lafs/lafs/pkg/webapi/gateway"
)

var (
	_ deep.Checker          = (*gateway.Store)(nil)
	_ checkcli.DeepStreamer = (*gateway.Store)(nil)
)

// TestCheckThroughTheWebAPI: the gateway's Check and CheckAndRepair speak
// t=check to a node (here, one serving pkg/webapi/deepops over an
// embedded grid), and tahoe check / deep-check in gateway mode print what
// they print in direct mode.
func TestCheckThroughTheWebAPI(t *testing.T) {
	ctx := context.Background()
	g := localgridtest.New(t, localgridtest.Options{Servers: 5, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 5, MaxSegmentSize: 128 << 10},
		Convergence: []byte("gw"), LeaseSecret: []byte("gw")})
	direct := g.Store
	up, err := direct.Upload(ctx, bytes.NewReader(bytes.Repeat([]byte("x"), 70000)), 70000, filestore.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := direct.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{client.EntryFor("f", up.Cap)}})
	if err != nil {
		t.Fatal(err)
	}
	ops := deepops.NewTable(0, nil)
	defer ops.Close()
	h := &deepops.Handlers{Store: direct, Checker: direct, Ops: ops}
	mux := http.NewServeMux()
	mux.Handle("/operations/", ops)
	mux.HandleFunc("/uri/{cap}", func(w http.ResponseWriter, r *http.Request) {
		c, err := caps.Parse(r.PathValue("cap"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Query().Get("t") == "check":
			h.Check(w, r, c)
		case r.Method == http.MethodPost && r.URL.Query().Get("t") == "stream-deep-check":
			h.StreamDeepCheck(w, r, c)
		case r.Method == http.MethodPost && r.URL.Query().Get("t") == "stream-manifest":
			h.StreamManifest(w, r, c)
		case r.Method == http.MethodPost && r.URL.Query().Get("t") == "start-deep-stats":
			h.StartDeepStats(w, r, c)
		case r.Method == http.MethodGet:
			if err := direct.Download(r.Context(), c, w, filestore.DownloadOptions{}); err != nil {
				http.Error(w, err.Error(), http.StatusGone)
			}
		default:
			http.Error(w, "unexpected request", http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	gw := gateway.New(srv.URL+"/", gateway.Options{})
	defer gw.Close()

	r, err := gw.Check(ctx, up.Cap, health.CheckOptions{Verify: true})
	if err != nil || !r.Healthy || r.SharesGood != 5 || r.Happiness != 5 {
		t.Fatalf("check: %+v %v", r, err)
	}
	g.RemoveShares(t, up.Cap, 1)
	crr, err := gw.CheckAndRepair(ctx, up.Cap, health.CheckOptions{})
	if err != nil || !crr.RepairAttempted || !crr.RepairSuccessful || crr.Pre.SharesGood != 4 {
		t.Fatalf("repair: %+v %v", crr, err)
	}

	out := func(s filestore.Store) string {
		var b strings.Builder
		e := checkcli.Env{Store: s, Aliases: map[string]string{"tahoe": root.String()}, Stdout: &b, Stderr: &b}
		if err := checkcli.TahoeCheck(ctx, e, []string{up.Cap.String()}, checkcli.CheckOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, o := range []checkcli.DeepCheckOptions{{Verbose: true}, {CheckOptions: checkcli.CheckOptions{Repair: true, Verify: true}, Verbose: true}} {
			if err := checkcli.TahoeDeepCheck(ctx, e, nil, o); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range []checkcli.ManifestOptions{{}, {Field: deep.ManifestVerifyCap}, {Raw: true}} {
			if err := checkcli.TahoeManifest(ctx, e, "", o); err != nil {
				t.Fatal(err)
			}
		}
		for _, raw := range []bool{false, true} {
			if err := checkcli.TahoeStats(ctx, e, "", raw); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	if g, d := out(gw), out(direct); g != d || !strings.Contains(g, "'f': Healthy\ndone: 2 objects checked, 2 healthy, 0 unhealthy\n") {
		t.Errorf("gateway mode printed\n%s\ndirect mode\n%s", g, d)
	}
}
