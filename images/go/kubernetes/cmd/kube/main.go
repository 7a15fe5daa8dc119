// Command kube is one binary holding the Kubernetes node and control-plane commands.
//
// One compile and one link instead of seven, and one file that every control-plane image and the
// node itself share (see images/go/README.md for the measurements). It picks the command from the
// name it was started as (a link named kube-apiserver, kubelet, ...) or, failing that, from its first
// argument (`kube kubelet --version`). The chosen command then sees the same os.Args it would see as
// a standalone binary.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubeadm "k8s.io/kubernetes/cmd/kubeadm/app"
	kubeadmerrors "k8s.io/kubernetes/cmd/kubeadm/app/util/errors"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"

	// The side-effect imports the upstream main packages carry, so behaviour matches them.
	_ "time/tzdata" // CronJob time zones (apiserver, controller-manager)

	_ "k8s.io/client-go/plugin/pkg/client/auth"           // kubectl auth plugins
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
)

// commands maps a command name to the function that runs it and returns the exit code.
var commands = map[string]func() int{
	"kube-apiserver":          func() int { return cli.Run(apiserver.NewAPIServerCommand()) },
	"kube-controller-manager": func() int { return cli.Run(controllermanager.NewControllerManagerCommand()) },
	"kube-scheduler":          func() int { return cli.Run(scheduler.NewSchedulerCommand()) },
	"kube-proxy":              func() int { return cli.Run(proxy.NewProxyCommand()) },
	"kubelet":                 func() int { return cli.Run(kubelet.NewKubeletCommand(context.Background())) },
	"kubeadm":                 runKubeadm,
	"kubectl":                 runKubectl,
}

func runKubeadm() int {
	// HandleError exits non-zero itself when there is an error.
	kubeadmerrors.HandleError(kubeadm.Run())
	return 0
}

func runKubectl() int {
	// kubectl reads -v before its flags are parsed so that command construction can log.
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) //nolint:errcheck // a bad -v is reported later by flag parsing
	if err := cli.RunNoErrOutput(kubectlcmd.NewDefaultKubectlCommand()); err != nil {
		kubectlutil.CheckErr(err)
	}
	return 0
}

func names() []string {
	out := make([]string, 0, len(commands))
	for name := range commands {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func main() {
	if run, ok := commands[filepath.Base(os.Args[0])]; ok {
		os.Exit(run())
	}
	if len(os.Args) > 1 {
		if run, ok := commands[os.Args[1]]; ok {
			// Drop our own name so the command parses its arguments as a standalone binary would.
			os.Args = os.Args[1:]
			os.Exit(run())
		}
	}
	fmt.Fprintf(os.Stderr, "usage: %s COMMAND [ARGS...], or run it through a link named after COMMAND\ncommands: %v\n",
		filepath.Base(os.Args[0]), names())
	os.Exit(2)
}
