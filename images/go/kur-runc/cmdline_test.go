package main

import (
	"reflect"
	"testing"
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want invocation
	}{
		{
			name: "containerd's create (go-runc): global flags, then --bundle before the ID",
			args: []string{"--root", "/run/containerd/runc/k8s.io", "--log", "/b/log.json", "--log-format", "json",
				"create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--no-pivot", "c1"},
			want: invocation{command: "create", bundle: "/b", id: "c1", logFile: "/b/log.json", logFormat: "json"},
		},
		{
			name: "flags after the ID (urfave/cli moves them forward), short -b, boolean globals",
			args: []string{"--systemd-cgroup", "--debug", "run", "c2", "-b", "/x", "--detach"},
			want: invocation{command: "run", bundle: "/x", id: "c2"},
		},
		{
			name: "name=value forms and single-dash long flags",
			args: []string{"-root=/r", "--log-format=text", "--rootless=true", "create", "-bundle=/y", "c3"},
			want: invocation{command: "create", bundle: "/y", id: "c3", logFormat: "text"},
		},
		{
			name: "a value that looks like a flag belongs to its flag",
			args: []string{"create", "--pid-file", "-b", "--console-socket", "--bundle", "c4"},
			want: invocation{command: "create", id: "c4"},
		},
		{
			name: "after --, -b is positional",
			args: []string{"create", "--", "c5", "-b", "/z"},
			want: invocation{command: "create", id: "c5"},
		},
		{
			name: "a global value flag takes the next word even if it is a command name",
			args: []string{"--root", "update", "state", "c6"},
			want: invocation{command: "state"},
		},
		{
			name: "restore reads the bundle too",
			args: []string{"restore", "--image-path", "/img", "--bundle", "/r", "c7"},
			want: invocation{command: "restore", bundle: "/r", id: "c7"},
		},
		{
			name: "update from stdin (go-runc)",
			args: []string{"--root", "/r", "update", "--resources=-", "c8"},
			want: invocation{command: "update", resources: "-", id: "c8"},
		},
		{
			name: "update with -r and other value flags",
			args: []string{"update", "--memory", "1G", "-r", "-", "c9"},
			want: invocation{command: "update", resources: "-", id: "c9"},
		},
		{
			name: "commands kur-runc passes through are not parsed further",
			args: []string{"exec", "--process", "/tmp/p.json", "-b", "/q", "c10"},
			want: invocation{command: "exec"},
		},
		{name: "version", args: []string{"--version"}, want: invocation{}},
		{name: "nothing", args: nil, want: invocation{}},
		{name: "-- before the command", args: []string{"--", "features"}, want: invocation{command: "features"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := parseArgs(c.args); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("parseArgs(%q)\n got %+v\nwant %+v", c.args, got, c.want)
			}
		})
	}
}
