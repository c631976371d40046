package e2e

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/storage/gbswire"
	"github.com/rogpeppe/go-internal/testscript"
	"go.yaml.in/yaml/v3"
)

// scriptCmds are the commands the scripts have beyond testscript's own.
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"hungserver": cmdHungServer,
		"timer":      cmdTimer,
		"wapi":       cmdWapi,
		"versitygw":  cmdVersitygw,
	}
}

// cmdHungServer: hungserver SERVERS_YAML starts a TCP listener on
// 127.0.0.1 that accepts connections and never sends a byte (so no TLS
// handshake ever completes), and adds a storage server at it to the
// servers.yaml file. It runs until the script ends.
func cmdHungServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hungserver SERVERS_YAML")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	ts.Defer(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	port := ln.Addr().(*net.TCPAddr).Port
	nurl := gbswire.NURL{SPKIHash: base64.RawURLEncoding.EncodeToString(make([]byte, 32)), Host: "127.0.0.1", Port: port, Swissnum: "hunghunghunghunghunghunghunghung"}
	path := ts.MkAbs(args[0])
	b, err := os.ReadFile(path)
	ts.Check(err)
	var doc map[string]map[string]any
	ts.Check(yaml.Unmarshal(b, &doc))
	if doc["storage"] == nil {
		doc["storage"] = map[string]any{}
	}
	id := fmt.Sprintf("v0-hung%026d", port)
	doc["storage"][id] = map[string]any{"ann": node.ServerAnnouncement{
		Nickname:        "hung",
		PermutationSeed: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		FURL:            "pb://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@tcp:127.0.0.1:" + strconv.Itoa(port) + "/hung",
		NURLs:           []string{nurl.String()},
	}}
	out, err := yaml.Marshal(doc)
	ts.Check(err)
	ts.Check(os.WriteFile(path, out, 0o600))
}

// cmdTimer: 'timer start NAME' notes the time; 'timer check NAME MAX'
// fails when more than MAX (a Go duration) has passed since.
func cmdTimer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: timer start NAME | timer check NAME MAX")
	}
	key := "TIMER_" + args[1]
	switch {
	case args[0] == "start" && len(args) == 2:
		ts.Setenv(key, strconv.FormatInt(time.Now().UnixNano(), 10))
	case args[0] == "check" && len(args) == 3:
		t0, err := strconv.ParseInt(ts.Getenv(key), 10, 64)
		if err != nil {
			ts.Fatalf("timer %s was not started", args[1])
		}
		max, err := time.ParseDuration(args[2])
		ts.Check(err)
		took := time.Since(time.Unix(0, t0))
		ts.Logf("%s took %s (bound %s)", args[1], took.Round(time.Millisecond), max)
		if took > max {
			ts.Fatalf("%s took %s, more than %s", args[1], took.Round(time.Millisecond), max)
		}
	default:
		ts.Fatalf("usage: timer start NAME | timer check NAME MAX")
	}
}
