package main

import (
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
)

const ipIndex = "ip"

// cluster is the agent's view of the cluster: informer caches of pods (indexed by IP),
// namespaces and policies.
type cluster struct {
	node       string
	factory    informers.SharedInformerFactory
	pods       cache.SharedIndexInformer
	namespaces listersv1.NamespaceLister
	policies   networkinglisters.NetworkPolicyLister
	hasSynced  []cache.InformerSynced
}

func newCluster(client kubernetes.Interface, node string) *cluster {
	// Only what the verdict reads is kept: managed fields are the bulk of an object.
	strip := informers.WithTransform(func(obj any) (any, error) {
		if o, ok := obj.(metav1.Object); ok {
			o.SetManagedFields(nil)
		}
		return obj, nil
	})
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, strip)
	pods := factory.Core().V1().Pods().Informer()
	_ = pods.AddIndexers(cache.Indexers{ipIndex: podIPs})
	ns := factory.Core().V1().Namespaces()
	np := factory.Networking().V1().NetworkPolicies()
	return &cluster{
		node:       node,
		factory:    factory,
		pods:       pods,
		namespaces: ns.Lister(),
		policies:   np.Lister(),
		hasSynced:  []cache.InformerSynced{pods.HasSynced, ns.Informer().HasSynced, np.Informer().HasSynced},
	}
}

func (c *cluster) start(ctx context.Context) { c.factory.Start(ctx.Done()) }

func (c *cluster) synced(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), c.hasSynced...)
}

// podIPs indexes pods on the pod network by their IPs (host-network pods share the node's).
func podIPs(obj any) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok || p.Spec.HostNetwork || podPhaseDone(p) {
		return nil, nil
	}
	var ips []string
	for _, ip := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			ips = append(ips, a.String())
		}
	}
	return ips, nil
}

// endpoint finds the pod behind an address, if any.
func (c *cluster) endpoint(addr netip.Addr) Endpoint {
	e := Endpoint{Addr: addr}
	objs, err := c.pods.GetIndexer().ByIndex(ipIndex, addr.Unmap().String())
	if err != nil || len(objs) == 0 {
		return e
	}
	pod := objs[0].(*corev1.Pod)
	e.Pod = pod
	e.Local = pod.Spec.NodeName == c.node
	if ns, err := c.namespaces.Get(pod.Namespace); err == nil {
		e.NamespaceLabels = ns.Labels
	} else {
		// The API server labels every namespace with its name; keep that much when it is not
		// in the cache yet.
		e.NamespaceLabels = map[string]string{"kubernetes.io/metadata.name": pod.Namespace}
	}
	return e
}

// decide is the verdict for one connection.
func (c *cluster) decide(conn Conn) bool {
	src, dst := c.endpoint(conn.Src), c.endpoint(conn.Dst)
	if !(src.Local && src.Pod != nil) && !(dst.Local && dst.Pod != nil) {
		return true
	}
	policies, err := c.policies.List(labels.Everything())
	if err != nil {
		return true
	}
	return Allowed(conn, src, dst, policies)
}
