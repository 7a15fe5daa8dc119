// Command flannel is a CNI plugin that attaches pods to the subnet flanneld leased to this node.
//
// It reads the lease flanneld writes (/run/flannel/subnet.env), turns it into a configuration for
// a delegate plugin (bridge with host-local IPAM by default) and runs that plugin. The delegate's
// configuration is saved per attachment so DEL releases exactly what ADD allocated, even after the
// lease file is gone. Written for kur from the CNI specification; the module that upstream Flannel
// ships its plugin in is not served by the Go module proxy.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

// pluginVersion is stamped at link time (-X main.pluginVersion=...).
var pluginVersion = "dev"

func main() {
	skel.PluginMainFuncs(skel.CNIFuncs{
		Add:    cmdAdd,
		Del:    cmdDel,
		Check:  cmdCheck,
		GC:     cmdGC,
		Status: cmdStatus,
	}, version.All, "kur flannel CNI plugin "+pluginVersion)
}

func loadLease(conf *netConf) (*subnetEnv, error) {
	f, err := os.Open(conf.SubnetFile)
	if err != nil {
		// flanneld has not leased a subnet yet; the runtime retries.
		return nil, types.NewError(types.ErrTryAgainLater, "flannel subnet lease not available", err.Error())
	}
	defer f.Close()
	env, err := parseSubnetEnv(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", conf.SubnetFile, err)
	}
	return env, nil
}

// encode serialises a delegate configuration and names the plugin it is for.
func encode(delegate map[string]any) (data []byte, pluginType string, err error) {
	if data, err = json.Marshal(delegate); err != nil {
		return nil, "", err
	}
	pluginType, err = delegateType(data)
	return data, pluginType, err
}

// fromLease builds the delegate configuration for the current lease; extra fields are added on top.
func fromLease(conf *netConf, extra map[string]any) ([]byte, string, error) {
	env, err := loadLease(conf)
	if err != nil {
		return nil, "", err
	}
	delegate := delegateConf(conf, env)
	for k, v := range extra {
		delegate[k] = v
	}
	return encode(delegate)
}

func cmdAdd(args *skel.CmdArgs) error {
	conf, err := parseNetConf(args.StdinData)
	if err != nil {
		return err
	}
	data, pluginType, err := fromLease(conf, nil)
	if err != nil {
		return err
	}
	// Saved before delegating: if ADD fails half way, the runtime's DEL still finds what to undo.
	store := attachmentStore{dir: conf.DataDir}
	if err := store.save(args.ContainerID, args.IfName, data); err != nil {
		return err
	}
	result, err := invoke.DelegateAdd(context.TODO(), pluginType, data, nil)
	if err != nil {
		return err
	}
	return types.PrintResult(result, conf.CNIVersion)
}

// saved returns the network configuration and the delegate configuration ADD saved for this attachment.
func saved(args *skel.CmdArgs) (*netConf, []byte, error) {
	conf, err := parseNetConf(args.StdinData)
	if err != nil {
		return nil, nil, err
	}
	data, err := attachmentStore{dir: conf.DataDir}.load(args.ContainerID, args.IfName)
	return conf, data, err
}

func cmdDel(args *skel.CmdArgs) error {
	conf, data, err := saved(args)
	if errors.Is(err, os.ErrNotExist) {
		return nil // never added, or already deleted: DEL must succeed
	}
	if err != nil {
		return err
	}
	pluginType, err := delegateType(data)
	if err != nil {
		return err
	}
	if err := invoke.DelegateDel(context.TODO(), pluginType, data, nil); err != nil {
		return err
	}
	return attachmentStore{dir: conf.DataDir}.remove(args.ContainerID, args.IfName)
}

func cmdCheck(args *skel.CmdArgs) error {
	conf, data, err := saved(args)
	if err != nil {
		return fmt.Errorf("no saved delegate configuration for this attachment: %w", err)
	}
	var delegate map[string]any
	if err := json.Unmarshal(data, &delegate); err != nil {
		return err
	}
	// CHECK hands the delegate the result the runtime cached for this attachment.
	delegate["cniVersion"] = conf.CNIVersion
	delegate["prevResult"] = conf.PrevResult
	data, pluginType, err := encode(delegate)
	if err != nil {
		return err
	}
	return invoke.DelegateCheck(context.TODO(), pluginType, data, nil)
}

// cmdGC forgets saved configurations of attachments the runtime no longer knows, then lets the
// delegate (and its IPAM) collect what it holds for them.
func cmdGC(args *skel.CmdArgs) error {
	conf, err := parseNetConf(args.StdinData)
	if err != nil {
		return err
	}
	if err := (attachmentStore{dir: conf.DataDir}).prune(conf.ValidAttachments); err != nil {
		return err
	}
	data, pluginType, err := fromLease(conf, map[string]any{"cni.dev/valid-attachments": conf.ValidAttachments})
	var cniErr *types.Error
	if errors.As(err, &cniErr) && cniErr.Code == types.ErrTryAgainLater {
		return nil // no lease, so nothing was allocated from it
	}
	if err != nil {
		return err
	}
	return invoke.DelegateGC(context.TODO(), pluginType, data, nil)
}

// cmdStatus reports ready once flanneld has written a usable lease and the delegate is ready.
func cmdStatus(args *skel.CmdArgs) error {
	conf, err := parseNetConf(args.StdinData)
	if err != nil {
		return err
	}
	data, pluginType, err := fromLease(conf, nil)
	var cniErr *types.Error
	if errors.As(err, &cniErr) && cniErr.Code == types.ErrTryAgainLater {
		return types.NewError(types.ErrPluginNotAvailable, cniErr.Msg, cniErr.Details)
	}
	if err != nil {
		return types.NewError(types.ErrPluginNotAvailable, err.Error(), "")
	}
	return invoke.DelegateStatus(context.TODO(), pluginType, data, nil)
}

func delegateType(data []byte) (string, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", fmt.Errorf("delegate configuration: type must be a plugin name: %w", err)
	}
	if head.Type == "" {
		return "", fmt.Errorf("delegate configuration has no type")
	}
	return head.Type, nil
}
