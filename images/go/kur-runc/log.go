package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"strconv"
	"time"
)

// logger reports what kur-runc changed. Not on stdout or stderr by default: under
// containerd's shim, `runc create` inherits the container's stdio, so a line there would end up
// in the pod's log. Notices go to the journal (syslog socket; `kur export logs` collects the
// node's journal), else to runc's --log file, else to stderr. Errors also go to runc's --log file
// at level "error", which is where the shim takes the reason of a failed create from.
type logger struct {
	// dest is $KUR_RUNC_LOG: "" or "syslog" for the journal, or a file to append to.
	dest     string
	runcLog  string
	runcJSON bool
	stderr   io.Writer
	now      func() time.Time

	opened  bool
	notices io.Writer // nil: use runc's log file, else stderr
	closer  io.Closer
}

func newLogger(dest string, inv invocation, stderr io.Writer) *logger {
	return &logger{dest: dest, runcLog: inv.logFile, runcJSON: inv.logFormat == "json", stderr: stderr, now: time.Now}
}

// open connects to the destination on first use: most runc commands log nothing.
func (l *logger) open() {
	if l.opened {
		return
	}
	l.opened = true
	if l.dest == "" || l.dest == "syslog" {
		if w, err := syslog.New(syslog.LOG_INFO|syslog.LOG_DAEMON, "kur-runc"); err == nil {
			l.notices, l.closer = w, w
		}
		return
	}
	if f, err := os.OpenFile(l.dest, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
		l.notices, l.closer = timestamped{f, l.now}, f
	}
}

func (l *logger) close() {
	if l.closer != nil {
		_ = l.closer.Close()
	}
}

func (l *logger) info(msg string) {
	l.open()
	switch {
	case l.notices != nil:
		_, _ = io.WriteString(l.notices, msg+"\n")
	case l.runcLog != "":
		l.appendRuncLog("info", msg)
	default:
		_, _ = fmt.Fprintf(l.stderr, "kur-runc: %s\n", msg)
	}
}

func (l *logger) error(msg string) {
	l.open()
	if l.notices != nil {
		_, _ = io.WriteString(l.notices, "error: "+msg+"\n")
	}
	if l.runcLog != "" {
		l.appendRuncLog("error", "kur-runc: "+msg)
	}
	_, _ = fmt.Fprintf(l.stderr, "kur-runc: %s\n", msg)
}

// appendRuncLog writes one entry in runc's own log format (logrus: JSON or text).
func (l *logger) appendRuncLog(level, msg string) {
	f, err := os.OpenFile(l.runcLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	t := l.now().Format(time.RFC3339Nano)
	if l.runcJSON {
		line, _ := json.Marshal(struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Time  string `json:"time"`
		}{level, msg, t})
		_, _ = f.Write(append(line, '\n'))
		return
	}
	_, _ = fmt.Fprintf(f, "time=%q level=%s msg=%s\n", t, level, strconv.Quote(msg))
}

// timestamped prefixes each write with the time, for log files (the journal stamps its own).
type timestamped struct {
	w   io.Writer
	now func() time.Time
}

func (t timestamped) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, t.now().Format(time.RFC3339Nano)+" kur-runc: "); err != nil {
		return 0, err
	}
	return t.w.Write(p)
}
