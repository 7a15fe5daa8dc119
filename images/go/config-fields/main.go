// Command config-fields writes the field lists of the documents kur generates and users patch
// (kubeadm v1beta4 InitConfiguration, ClusterConfiguration, JoinConfiguration; KubeletConfiguration
// v1beta1; KubeProxyConfiguration v1alpha1), read by reflection from the Kubernetes types of the
// pinned version. kur checks every kubeadmConfigPatches entry against them, so a typo in a field
// name is a config error instead of a setting kubeadm ignores.
//
// Usage: config-fields [-o FILE]   (default: standard output)
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	outPath := flag.String("o", "", "write to this file instead of standard output")
	flag.Parse()
	data, err := Generate()
	if err != nil {
		fmt.Fprintf(os.Stderr, "config-fields: %v\n", err)
		os.Exit(1)
	}
	if *outPath == "" {
		_, err = os.Stdout.Write(data)
	} else {
		err = os.WriteFile(*outPath, data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "config-fields: %v\n", err)
		os.Exit(1)
	}
}
