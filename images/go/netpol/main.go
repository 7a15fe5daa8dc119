// Command netpol enforces NetworkPolicy objects on one node, beside Flannel (which enforces
// none). It runs on every node on the host network and:
//
//   - watches Pods, Namespaces and NetworkPolicies;
//   - sends the first packet of each new connection from or to one of the node's pods (FORWARD,
//     filter table, the node's pod CIDRs) to an nfqueue with iptables' NFQUEUE target, on the
//     iptables backend the node's kube-proxy uses;
//   - decides each queued packet with Allowed (policy.go) and drops it or lets it on; conntrack
//     carries the rest of an accepted connection without asking again.
//
// It removes its rules when it stops and re-installs them at every start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// version is stamped at link time (-X main.version=...).
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("netpol", flag.ContinueOnError)
	flags.SetOutput(stderr)
	showVersion := flags.Bool("version", false, "print the version and exit")
	node := flags.String("node", os.Getenv("NODE_NAME"), "this node's name (default $NODE_NAME)")
	queue := flags.Uint("queue", 100, "the nfqueue number new connections are sent to")
	clusterCIDRs := flags.String("cluster-cidr", "", "the cluster's pod CIDRs, comma-separated: connections between pods keep their source address")
	resync := flags.Duration("resync", 30*time.Second, "how often the iptables rules are checked and restored")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "netpol", version)
		return 0
	}
	logger := log.New(stderr, "", log.LstdFlags)
	if *node == "" || *queue > 65535 {
		logger.Print("netpol: -node (or $NODE_NAME) is required, and -queue must be below 65536")
		return 2
	}
	cluster, err := parsePrefixes(*clusterCIDRs)
	if err != nil {
		logger.Printf("netpol: -cluster-cidr: %v", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := agent(ctx, logger, *node, cluster, uint16(*queue), *resync); err != nil {
		logger.Printf("netpol: %v", err)
		return 1
	}
	return 0
}

// parsePrefixes reads a comma-separated list of CIDRs.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func agent(ctx context.Context, logger *log.Logger, node string, cluster []netip.Prefix, queue uint16, resync time.Duration) error {
	config, err := rest.InClusterConfig()
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	cidrs, err := podCIDRs(ctx, logger, client, node)
	if err != nil {
		return err
	}
	backend, err := detectBackend()
	if err != nil {
		return err
	}
	logger.Printf("netpol %s on node %s: pod CIDRs %v (cluster %v), iptables-%s, queue %d", version, node, cidrs, cluster, backend, queue)

	state := newCluster(client, node)
	state.start(ctx)
	if !state.synced(ctx) {
		return ctx.Err()
	}
	q, err := openQueue(ctx, logger, queue, state)
	if err != nil {
		return err
	}
	defer q.Close()

	fams := families(backend, cidrs, cluster)
	defer func() {
		for _, f := range fams {
			f.cleanup(execRunner)
		}
		logger.Print("netpol: rules removed")
	}()
	ticker := time.NewTicker(resync)
	defer ticker.Stop()
	for {
		for _, f := range fams {
			if err := f.ensure(execRunner, queue, execRestore); err != nil {
				logger.Printf("netpol: installing rules: %v", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// podCIDRs waits for the node's pod CIDRs (the controller manager assigns them after the node
// registers).
func podCIDRs(ctx context.Context, logger *log.Logger, client kubernetes.Interface, node string) ([]netip.Prefix, error) {
	for {
		n, err := client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err == nil {
			cidrs := n.Spec.PodCIDRs
			if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
				cidrs = []string{n.Spec.PodCIDR}
			}
			out, perr := parsePrefixes(strings.Join(cidrs, ","))
			if perr != nil {
				return nil, fmt.Errorf("node %s: pod CIDRs %v: %v", node, cidrs, perr)
			}
			if len(out) > 0 {
				return out, nil
			}
			err = errors.New("no pod CIDR assigned yet")
		}
		logger.Printf("netpol: node %s: %v; retrying", node, err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func detectBackend() (string, error) {
	legacy, _ := execRunner("iptables-legacy-save", "-t", "filter")
	nft, _ := execRunner("iptables-nft-save", "-t", "filter")
	if _, err := execRunner("iptables-nft", "--version"); err != nil {
		return "", err
	}
	return pickBackend(legacy, nft), nil
}

// podPhaseDone: a finished pod's IP may already belong to another pod.
func podPhaseDone(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}
