package cgroup

import (
	"strings"
	"testing"
)

const (
	id1 = "3f4e2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
	id2 = "b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1"
)

func TestClassify(t *testing.T) {
	const uid = "5a2f7c1e-9b3d-4e8a-a6f0-1c2d3e4f5a6b"
	uidEsc := strings.ReplaceAll(uid, "-", "_")
	ctr := func(rt, id, path string) Group {
		return Group{Kind: KindContainer, Runtime: rt, ID: id, ShortID: id[:12], Name: id[:12], Path: path}
	}
	kube := func(id, path string) Group {
		g := ctr(RuntimeKubernetes, id, path)
		g.Pod = uid
		return g
	}
	unit := func(k Kind, rt, name, path string) Group {
		return Group{Kind: k, Runtime: rt, ID: name, Name: name, Path: path}
	}
	lxc := func(name, path string) Group {
		return Group{Kind: KindContainer, Runtime: RuntimeLXC, ID: name, Name: name, Path: path}
	}
	none := func(path string) Group { return Group{Path: path} }
	for _, tc := range []struct {
		path string
		want Group
	}{
		// Docker: systemd driver (v2 default), cgroupfs driver, nested.
		{"/system.slice/docker-" + id1 + ".scope", ctr(RuntimeDocker, id1, "/system.slice/docker-"+id1+".scope")},
		{"/system.slice/docker-" + id1 + ".scope/init.scope", ctr(RuntimeDocker, id1, "/system.slice/docker-"+id1+".scope")},
		{"/system.slice/docker-" + id1 + ".scope/system.slice/nginx.service", ctr(RuntimeDocker, id1, "/system.slice/docker-"+id1+".scope")},
		{"/docker/" + id1, ctr(RuntimeDocker, id1, "/docker/"+id1)},
		{"/docker/" + id1 + "/docker/" + id2, ctr(RuntimeDocker, id1, "/docker/"+id1)}, // docker in docker: the outer one
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" + id1 + ".scope",
			ctr(RuntimeDocker, id1, "/user.slice/user-1000.slice/user@1000.service/user.slice/docker-"+id1+".scope")},
		{"/docker/" + id1[:12], none("/docker/" + id1[:12])}, // a short id is not a cgroup name
		{"/docker/" + strings.ToUpper(id1), none("/docker/" + strings.ToUpper(id1))},
		{"/system.slice/docker-" + id1 + "0.scope", unit(KindService, RuntimeSystemd, "docker-"+id1+"0.scope", "/system.slice/docker-"+id1+"0.scope")},
		{"/system.slice/docker.service", unit(KindService, RuntimeSystemd, "docker.service", "/system.slice/docker.service")},
		// Podman: systemd manager, conmon, pods, cgroupfs manager, rootless, quadlet split.
		{"/machine.slice/libpod-" + id1 + ".scope", ctr(RuntimePodman, id1, "/machine.slice/libpod-"+id1+".scope")},
		{"/machine.slice/libpod-" + id1 + ".scope/container", ctr(RuntimePodman, id1, "/machine.slice/libpod-"+id1+".scope")},
		{"/machine.slice/libpod-conmon-" + id1 + ".scope", unit(KindService, RuntimeSystemd, "libpod-conmon-"+id1+".scope", "/machine.slice/libpod-conmon-"+id1+".scope")},
		{"/machine.slice/machine-libpod_pod_" + id2 + ".slice/libpod-" + id1 + ".scope",
			ctr(RuntimePodman, id1, "/machine.slice/machine-libpod_pod_"+id2+".slice/libpod-"+id1+".scope")},
		{"/libpod_parent/libpod-" + id1, ctr(RuntimePodman, id1, "/libpod_parent/libpod-"+id1)},
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id1 + ".scope/container",
			ctr(RuntimePodman, id1, "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-"+id1+".scope")},
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-" + id1 + ".scope",
			unit(KindUser, RuntimeUser, "user@1000.service", "/user.slice/user-1000.slice/user@1000.service")},
		{"/system.slice/web.service/libpod-payload-" + id1, ctr(RuntimePodman, id1, "/system.slice/web.service/libpod-payload-"+id1)},
		// Kubernetes: systemd driver (escaped uid), cgroupfs driver, QoS classes, conmon, the pod itself.
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidEsc + ".slice/cri-containerd-" + id1 + ".scope",
			kube(id1, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"+uidEsc+".slice/cri-containerd-"+id1+".scope")},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidEsc + ".slice/crio-" + id1 + ".scope",
			kube(id1, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"+uidEsc+".slice/crio-"+id1+".scope")},
		{"/kubepods.slice/kubepods-pod" + uidEsc + ".slice/cri-containerd-" + id1 + ".scope",
			kube(id1, "/kubepods.slice/kubepods-pod"+uidEsc+".slice/cri-containerd-"+id1+".scope")},
		{"/kubepods/burstable/pod" + uid + "/" + id1, kube(id1, "/kubepods/burstable/pod"+uid+"/"+id1)},
		{"/kubepods/pod" + uid + "/" + id1, kube(id1, "/kubepods/pod"+uid+"/"+id1)},
		{"/kubepods/besteffort/pod" + uid + "/crio-" + id1, kube(id1, "/kubepods/besteffort/pod"+uid+"/crio-"+id1)},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidEsc + ".slice/docker-" + id1 + ".scope",
			kube(id1, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"+uidEsc+".slice/docker-"+id1+".scope")},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidEsc + ".slice/crio-conmon-" + id1 + ".scope",
			Group{Kind: KindPod, Runtime: RuntimeKubernetes, ID: uid, Name: uid, Pod: uid,
				Path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidEsc + ".slice"}},
		{"/kubepods/burstable/pod" + uid, Group{Kind: KindPod, Runtime: RuntimeKubernetes, ID: uid, Name: uid, Pod: uid, Path: "/kubepods/burstable/pod" + uid}},
		{"/kubepods.slice/kubepods-burstable.slice", Group{Kind: KindSlice, Runtime: RuntimeSlice, ID: "kubepods-burstable.slice", Name: "kubepods-burstable.slice", Path: "/kubepods.slice/kubepods-burstable.slice"}},
		{"/podcast/" + id1, none("/podcast/" + id1)}, // "pod…" outside kubepods is not a pod
		// containerd and CRI-O outside Kubernetes.
		{"/system.slice/cri-containerd-" + id1 + ".scope", ctr(RuntimeContainerd, id1, "/system.slice/cri-containerd-"+id1+".scope")},
		{"/system.slice/crio-" + id1 + ".scope", ctr(RuntimeCRIO, id1, "/system.slice/crio-"+id1+".scope")},
		// LXC and LXD.
		{"/lxc.payload.web1", lxc("web1", "/lxc.payload.web1")},
		{"/lxc.payload.web1/system.slice/nginx.service", lxc("web1", "/lxc.payload.web1")},
		{"/lxc.monitor.web1", none("/lxc.monitor.web1")},
		{"/lxc/db", lxc("db", "/lxc/db")},
		{"/lxc/db/init.scope", lxc("db", "/lxc/db")},
		{"/lxc.payload.bad\x1b[2J", none("/lxc.payload.bad\x1b[2J")}, // a terminal escape is no name
		// systemd services, scopes, user sessions, slices.
		{"/system.slice/nginx.service", unit(KindService, RuntimeSystemd, "nginx.service", "/system.slice/nginx.service")},
		{"/system.slice/system-getty.slice/getty@tty1.service", unit(KindService, RuntimeSystemd, "getty@tty1.service", "/system.slice/system-getty.slice/getty@tty1.service")},
		{"/system.slice/systemd-fsck@dev-disk-by\\x2duuid-12.service", unit(KindService, RuntimeSystemd, "systemd-fsck@dev-disk-by\\x2duuid-12.service", "/system.slice/systemd-fsck@dev-disk-by\\x2duuid-12.service")},
		{"/system.slice/containerd.service/sub", unit(KindService, RuntimeSystemd, "containerd.service", "/system.slice/containerd.service")},
		{"/init.scope", unit(KindService, RuntimeSystemd, "init.scope", "/init.scope")},
		{"/user.slice/user-1000.slice/session-3.scope", unit(KindUser, RuntimeUser, "session-3.scope", "/user.slice/user-1000.slice/session-3.scope")},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope",
			unit(KindUser, RuntimeUser, "user@1000.service", "/user.slice/user-1000.slice/user@1000.service")},
		{"/user.slice/user-1000.slice", Group{Kind: KindSlice, Runtime: RuntimeSlice, ID: "user-1000.slice", Name: "user-1000.slice", Path: "/user.slice/user-1000.slice"}},
		{"/system.slice", Group{Kind: KindSlice, Runtime: RuntimeSlice, ID: "system.slice", Name: "system.slice", Path: "/system.slice"}},
		{"/.slice", none("/.slice")},
		{"/.service", none("/.service")},
		// Nothing we know.
		{"/", none("/")},
		{"", none("")},
		{"relative/docker-" + id1 + ".scope", none("relative/docker-" + id1 + ".scope")},
		{"/process_api/072ab90c51ed53cdb9fa6a141e38fd19", none("/process_api/072ab90c51ed53cdb9fa6a141e38fd19")},
		{"/system.slice/bad\xff.service", none("/system.slice/bad\uFFFD.service")},
		{"/" + strings.Repeat("a/", maxSegments) + "x.service", none("/" + strings.Repeat("a/", maxSegments) + "x.service")},
	} {
		got := Classify(tc.path)
		if got != tc.want {
			t.Errorf("Classify(%q)\n got %+v\nwant %+v", tc.path, got, tc.want)
		}
	}
}
