#!/usr/bin/env python3
"""Checks the Kubernetes manifests without a cluster.

1. Every YAML file under deploy/k8s parses (yaml.safe_load_all).
2. With kubectl (or kustomize) on the PATH: renders the base, each overlay, and gpu-fleet with each optional
   component, then checks what a typo would break but the API server would accept or only notice at run
   time: selectors that match nothing, probes on undeclared ports, references to missing ConfigMaps,
   Secrets, keys and claims, autoscalers pointing at nothing or fighting a fixed `replicas`, KEDA triggers
   whose bootstrap servers, topics or groups differ from what the services are configured with, and the
   animator's GPU, model volume and shutdown settings; and, on every render: every namespaced object in the
   overlay's namespace; every pod non-root (runAsNonRoot with a numeric non-root runAsUser, matching our
   images' USER); no floating image tags; ports and probe paths as the code serves them (read from the
   services' config records and ManagementRoutes); the animator's liveness failing while its model cannot
   load (AnimatorService's .model(loader, true), StageService.notLiveReasons) and no startupProbe that would hide it; no Ingress path reaching
   /metrics or /health; a model volume that starts with the bundles (a data source, or model-sync).

Usage: python3 deploy/k8s/tools/check.py              (exit status 1 on any problem)
       python3 deploy/k8s/tools/check.py --self-test  (each check catches a manifest broken on purpose)
"""
import re
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

K8S = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
REPO = os.path.normpath(os.path.join(K8S, "..", ".."))
CONFIG_SOURCES = {
    "gateway": ("gateway/src/main/java/io/xdyna/gateway/GatewayConfig.java", "XDYNA_HTTP_PORT"),
    "pose-extractor": ("pose-extractor/src/main/java/io/xdyna/pose/service/PoseExtractorConfig.java",
                       "XDYNA_MANAGEMENT_PORT"),
    "animator": ("animator/src/main/java/io/xdyna/animator/service/AnimatorConfig.java", "XDYNA_MANAGEMENT_PORT"),
    "encoder": ("encoder/src/main/java/io/xdyna/encoder/service/EncoderConfig.java", "XDYNA_MANAGEMENT_PORT"),
}
IMAGE_USER = {}  # our image name -> the numeric USER of its Dockerfile


def read(rel):
    with open(os.path.join(REPO, rel)) as fh:
        return fh.read()


def code_ports():
    """The port each service listens on by default, from its config record: env.integer("VAR", port, ...)."""
    ports = {}
    for svc, (src, var) in CONFIG_SOURCES.items():
        m = re.search(r'env\.integer\("' + var + r'",\s*(\d+)', read(src))
        ports[svc] = int(m.group(1)) if m else None
    return ports


def code_health_paths():
    src = read("shared/src/main/java/io/xdyna/shared/service/ManagementRoutes.java")
    return set(re.findall(r'router\.get\("(/[^"]*)"\)', src))


def public_gateway_paths():
    """What the gateway serves to users: the API under /v1 and the web app's files (webroot)."""
    api = re.findall(r'router\.route\("(/v1)/\*"\)', read("gateway/src/main/java/io/xdyna/gateway/api/ApiRouter.java"))
    webroot = os.path.join(REPO, "gateway/src/main/resources/webroot")
    files = sorted("/" + f for f in os.listdir(webroot))
    return set(api[:1]), files


def dockerfile_users():
    d = os.path.join(REPO, "deploy", "docker")
    for f in os.listdir(d):
        if f.endswith(".Dockerfile"):
            users = re.findall(r"^USER\s+(\S+)", read(os.path.join("deploy", "docker", f)), re.M)
            IMAGE_USER["xdyna/" + f[:-len(".Dockerfile")]] = users[-1].split(":")[0] if users else None


def pinned(image):
    """A full version (x.y.z), a MinIO RELEASE tag or a digest; not latest, not 17-jre, not untagged."""
    if "@sha256:" in image:
        return True
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    return bool(tag) and tag != "latest" and (re.search(r"\d+\.\d+\.\d+", tag) or tag.startswith("RELEASE."))


# Memory each service needs outside the Java heap (GiB), estimates: the animator's libtorch/CUDA/cuDNN
# libraries (about 3 GB mapped), the CUDA context's host side (about 1.5 GiB) and the float16 bundle
# (about 6 GB) read host-side while it is loaded; ONNX Runtime with DWPose, OpenCV and FFmpeg frames in the
# pose extractor; FFmpeg's encoder; Netty buffers and FFmpeg probing in the gateway. The dev overlay runs
# the tiny fixture bundles. The heap is the container limit times the image's -XX:MaxRAMPercentage.
NATIVE_HEADROOM_GIB = {"animator": 12, "pose-extractor": 2, "encoder": 1.5, "gateway": 0.5}
NATIVE_HEADROOM_DEV_GIB = {"animator": 1, "pose-extractor": 1, "encoder": 1, "gateway": 0.5}


def max_ram_percentage(svc):
    m = re.search(r"MaxRAMPercentage=(\d+(?:\.\d+)?)", read(f"deploy/docker/{svc}.Dockerfile"))
    return float(m.group(1)) if m else 25.0  # the JVM's default


def gib(quantity):
    units = {"Ki": 2 ** -20, "Mi": 2 ** -10, "Gi": 1, "Ti": 2 ** 10, "K": 1e3 / 2 ** 30, "M": 1e6 / 2 ** 30,
             "G": 1e9 / 2 ** 30}
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?)?", str(quantity))
    return float(m.group(1)) * (units[m.group(2)] if m.group(2) else 2 ** -30)


SERVICES = code_ports()
HEALTH = code_health_paths()
dockerfile_users()
# Secrets the operator creates out of band (never committed), with the keys the services read.
# The base is only rendered, never applied on its own: overlays supply the Secret.
EXTERNAL_SECRETS = {"gpu-fleet": {"xdyna-secrets"}, "base": {"xdyna-secrets"}}
WORKLOADS = ("Deployment", "StatefulSet", "Job")
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                  "CustomResourceDefinition", "PriorityClass", "IngressClass", "ClusterTriggerAuthentication"}


def parse_all():
    problems, count = [], 0
    for root, _, files in os.walk(K8S):
        for f in sorted(files):
            if f.endswith((".yaml", ".yml")):
                path = os.path.join(root, f)
                try:
                    with open(path) as fh:
                        count += sum(1 for d in yaml.safe_load_all(fh) if d is not None)
                except yaml.YAMLError as e:
                    problems.append(f"{os.path.relpath(path, K8S)}: {e}")
    return count, problems


def renderer():
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return None


def rebase(kustomization, src, dst):
    """A copy of a kustomization whose file references work from directory dst."""
    k = dict(kustomization)

    def fix(p):
        return p if os.path.isabs(p) else os.path.relpath(os.path.join(src, p), dst)
    for key in ("resources", "components"):
        if k.get(key):
            k[key] = [fix(p) for p in k[key]]
    if k.get("patches"):
        k["patches"] = [dict(p, path=fix(p["path"])) if "path" in p else p for p in k["patches"]]
    return k


def render(cmd, path):
    # wrappers made by main() refer to files of the overlay they copy, outside their own folder
    extra = ["--load-restrictor", "LoadRestrictionsNone"] if not path.startswith(K8S) else []
    out = subprocess.run(cmd + extra + [path], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def pod_spec(obj):
    spec = obj.get("spec", {})
    if obj["kind"] in WORKLOADS:
        return spec.get("template", {}).get("spec", {})
    return None


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_namespaces(docs):
    """Every namespaced object lands in the overlay's one Namespace: an object rendered without one goes to
    whatever namespace kubectl's context has (or `default`), where e.g. a ScaledObject finds no target."""
    errs = []
    spaces = [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"]
    if len(spaces) != 1:
        return [f"expected one Namespace in the render, found {spaces}"]
    for d in docs:
        if d["kind"] in CLUSTER_SCOPED:
            continue
        ns = d["metadata"].get("namespace")
        if ns != spaces[0]:
            errs.append(f"{d['kind']}/{d['metadata']['name']}: namespace {ns!r}, not the overlay's {spaces[0]!r}")
    return errs


def check(name, docs):
    errs = check_namespaces(docs)
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    cms = by_kind.get("ConfigMap", {})
    secrets = by_kind.get("Secret", {})
    pvcs = by_kind.get("PersistentVolumeClaim", {})
    external = EXTERNAL_SECRETS.get(name, set())

    def cm_by_prefix(prefix):
        hits = [c for n, c in cms.items() if n == prefix or n.startswith(prefix + "-")]
        return hits[0] if hits else None

    env_cm = cm_by_prefix("xdyna-env")
    if env_cm is None:
        errs.append("no ConfigMap xdyna-env")
        env = {}
    else:
        env = env_cm.get("data", {})
    prefix = env.get("XDYNA_TOPIC_PREFIX", "xdyna.")

    workloads = {}
    for kind in WORKLOADS:
        for n, w in by_kind.get(kind, {}).items():
            workloads[(kind, n)] = w

    for (kind, n), w in workloads.items():
        where = f"{kind}/{n}"
        spec = pod_spec(w)
        labels = w["spec"].get("template", {}).get("metadata", {}).get("labels", {})
        if kind != "Job":
            sel = w["spec"].get("selector", {}).get("matchLabels", {})
            if not matches(sel, labels):
                errs.append(f"{where}: selector {sel} does not match its pod labels {labels}")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for v in volumes.values():
            claim = v.get("persistentVolumeClaim", {}).get("claimName")
            if claim and claim not in pvcs and not any(
                    claim.startswith(t["metadata"]["name"] + "-")
                    for t in w["spec"].get("volumeClaimTemplates", [])):
                errs.append(f"{where}: volume {v['name']} claims missing PVC {claim}")
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            cwhere = f"{where}/{c['name']}"
            image = c.get("image", "")
            if ":" not in image.rsplit("/", 1)[-1]:
                errs.append(f"{cwhere}: image {image} has no tag")
            elif not pinned(image) and not (name in ("dev", "base") and image.startswith("xdyna/") and image.endswith(":dev")):
                errs.append(f"{cwhere}: image {image} floats (pin a full version, a RELEASE tag or a digest)")
            psc, csc = spec.get("securityContext", {}), c.get("securityContext", {})
            non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot"))
            uid = csc.get("runAsUser", psc.get("runAsUser"))
            if non_root is not True:
                errs.append(f"{cwhere}: runAsNonRoot is not true")
            if not isinstance(uid, int) or uid == 0:
                errs.append(f"{cwhere}: runAsUser {uid!r} is not a numeric non-root uid (runAsNonRoot cannot verify"
                            f" a named USER)")
            # our images, whatever registry the overlay moved them to: <registry>/xdyna/<svc>:<tag>
            repo = image.split("@")[0]
            repo = repo.rsplit(":", 1)[0] if ":" in repo.rsplit("/", 1)[-1] else repo
            base = "xdyna/" + repo.rsplit("/", 1)[-1] if ("/" + repo).endswith("/xdyna/" + repo.rsplit("/", 1)[-1]) \
                else repo
            if base in IMAGE_USER:
                if IMAGE_USER[base] is None or IMAGE_USER[base] in ("0", "root"):
                    errs.append(f"{cwhere}: deploy/docker/{base[6:]}.Dockerfile has no non-root USER")
                elif isinstance(uid, int) and str(uid) != IMAGE_USER[base]:
                    errs.append(f"{cwhere}: runAsUser {uid} differs from the image's USER {IMAGE_USER[base]}")
            if "requests" not in c.get("resources", {}):
                errs.append(f"{cwhere}: no resource requests")
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                http = c.get(probe, {}).get("httpGet")
                if http and http["port"] not in ports and http["port"] not in ports.values():
                    errs.append(f"{cwhere}: {probe} uses undeclared port {http['port']}")
            for ef in c.get("envFrom", []):
                ref = ef.get("configMapRef", {}).get("name")
                if ref and ref not in cms:
                    errs.append(f"{cwhere}: envFrom missing ConfigMap {ref}")
                ref = ef.get("secretRef", {}).get("name")
                if ref and ref not in secrets and ref not in external:
                    errs.append(f"{cwhere}: envFrom missing Secret {ref}")
            for e in c.get("env", []):
                sk = e.get("valueFrom", {}).get("secretKeyRef")
                if sk:
                    s = secrets.get(sk["name"])
                    if s is None and sk["name"] not in external:
                        errs.append(f"{cwhere}: env {e['name']} uses missing Secret {sk['name']}")
                    elif s is not None and not sk.get("optional") and sk["key"] not in {
                            **s.get("data", {}), **s.get("stringData", {})}:
                        errs.append(f"{cwhere}: Secret {sk['name']} has no key {sk['key']}")
            for m in c.get("volumeMounts", []):
                if m["name"] not in volumes and not any(
                        t["metadata"]["name"] == m["name"] for t in w["spec"].get("volumeClaimTemplates", [])):
                    errs.append(f"{cwhere}: mounts undefined volume {m['name']}")
        app = labels.get("app.kubernetes.io/name")
        if kind == "Deployment" and app in SERVICES:
            port = SERVICES[app]
            ann = w["spec"]["template"]["metadata"].get("annotations", {})
            if ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/port") != str(port) \
                    or ann.get("prometheus.io/path") != "/metrics":
                errs.append(f"{where}: Prometheus scrape annotations missing or not on port {port}")
            c = spec["containers"][0]
            if port not in [p["containerPort"] for p in c.get("ports", [])]:
                errs.append(f"{where}: does not declare port {port}")
            paths = {p: c.get(p, {}).get("httpGet", {}).get("path") for p in ("readinessProbe", "livenessProbe")}
            if paths != {"readinessProbe": "/health/ready", "livenessProbe": "/health/live"}:
                errs.append(f"{where}: probes are {paths}, expected /health/ready and /health/live")
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                http = c.get(probe, {}).get("httpGet")
                if http:
                    if http.get("path") not in HEALTH:
                        errs.append(f"{where}: {probe} path {http.get('path')} is not served (ManagementRoutes: "
                                    f"{sorted(HEALTH)})")
                    named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
                    if named.get(http["port"], http["port"]) != port:
                        errs.append(f"{where}: {probe} on port {http['port']}, the service listens on {port}")
            limit = c.get("resources", {}).get("limits", {}).get("memory")
            if limit is None:
                errs.append(f"{where}: no memory limit")
            else:
                pct = max_ram_percentage(app)
                off_heap = gib(limit) * (1 - pct / 100)
                need = (NATIVE_HEADROOM_DEV_GIB if name == "dev" else NATIVE_HEADROOM_GIB)[app]
                if off_heap < need:
                    errs.append(f"{where}: MaxRAMPercentage={pct:g} of a {limit} limit leaves {off_heap:.1f} GiB outside"
                                f" the heap; {app} needs about {need} GiB there (native libraries, buffers)")
            cenv = {e["name"]: e.get("value") for e in c.get("env", [])}
            if app != "gateway" and cenv.get("XDYNA_MANAGEMENT_PORT") != str(port):
                errs.append(f"{where}: XDYNA_MANAGEMENT_PORT is {cenv.get('XDYNA_MANAGEMENT_PORT')}, not {port}")
            if app == "gateway" and cenv.get("XDYNA_HTTP_PORT") != str(port):
                errs.append(f"{where}: XDYNA_HTTP_PORT is not {port}")
        if kind == "Deployment" and app == "animator":
            c = spec["containers"][0]
            # a bundle that can never load must fail liveness (the container restarts and re-reads the volume)
            # rather than leave an unready pod on a GPU: the code has to say so, and no startupProbe on the
            # same endpoint may hold the liveness probe off for its whole window
            # the stage runtime fails liveness for a model problem when the stage asks it to: .model(loader, true)
            if not re.search(r"\.model\([^;]*?,\s*true\)",
                             read("animator/src/main/java/io/xdyna/animator/service/AnimatorService.java")):
                errs.append(f"{where}: AnimatorService does not fail /health/live when its model cannot load")
            if c.get("startupProbe", {}).get("httpGet", {}).get("path") == "/health/live":
                errs.append(f"{where}: startupProbe on /health/live: a model that never loads is only noticed after "
                            f"the whole startup window; probe the port (tcpSocket) instead")
            cenv = {e["name"]: e.get("value") for e in c.get("env", [])}
            gpu = c.get("resources", {}).get("limits", {}).get("nvidia.com/gpu")
            if cenv.get("XDYNA_MODEL_DIR") != "/models/xdyna":
                errs.append(f"{where}: XDYNA_MODEL_DIR is {cenv.get('XDYNA_MODEL_DIR')}")
            mount = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/models"]
            if not mount or not mount[0].get("readOnly"):
                errs.append(f"{where}: /models is not mounted read-only")
            if spec.get("terminationGracePeriodSeconds", 30) < 150:
                errs.append(f"{where}: terminationGracePeriodSeconds below the 150 s a graceful hand-back may take")
            if name == "dev":
                if gpu is not None or cenv.get("XDYNA_DEVICE") != "cpu":
                    errs.append(f"{where}: dev animator should run on CPU without a GPU request")
            else:
                if str(gpu) != "1":
                    errs.append(f"{where}: limits nvidia.com/gpu is {gpu}, expected 1")
                if not any(t.get("key") == "nvidia.com/gpu" for t in spec.get("tolerations", [])):
                    errs.append(f"{where}: no toleration for GPU nodes")
                if not spec.get("nodeSelector"):
                    errs.append(f"{where}: no GPU node selector")
                pvc_name = mount[0]["name"] if mount else None
                vol = {v["name"]: v for v in spec.get("volumes", [])}.get(pvc_name, {})
                if not vol.get("persistentVolumeClaim"):
                    errs.append(f"{where}: the model volume is not a PersistentVolumeClaim")

    def workload_with(selector):
        return [k for k, w in workloads.items() if k[0] != "Job"
                and matches(selector, w["spec"]["template"]["metadata"].get("labels", {}))]

    for n, s in by_kind.get("Service", {}).items():
        targets = workload_with(s["spec"].get("selector", {}))
        if not targets:
            errs.append(f"Service/{n}: selector matches no workload")
        for p in s["spec"].get("ports", []):
            tp = p.get("targetPort", p["port"])
            for t in targets:
                cports = [cp for c in pod_spec(workloads[t])["containers"] for cp in c.get("ports", [])]
                if tp not in [cp.get("name") for cp in cports] + [cp["containerPort"] for cp in cports]:
                    errs.append(f"Service/{n}: targetPort {tp} not declared by {t[1]}")
    api, webroot = public_gateway_paths()
    for n, ing in by_kind.get("Ingress", {}).items():
        for r in ing["spec"].get("rules", []):
            exposed = []
            for p in r.get("http", {}).get("paths", []):
                path, ptype = p["path"], p.get("pathType")
                exposed.append(path)
                for internal in sorted(HEALTH):
                    hit = internal == path if ptype == "Exact" else (
                        path == "/" or internal == path or internal.startswith(path.rstrip("/") + "/"))
                    if hit:
                        errs.append(f"Ingress/{n}: path {path} ({ptype}) exposes {internal} to the internet")
            for want in sorted(api) + webroot + ["/"]:
                if want not in exposed:
                    errs.append(f"Ingress/{n}: the gateway serves {want} to users but no Ingress path routes it")
            for p in r.get("http", {}).get("paths", []):
                svc = p["backend"]["service"]
                s = by_kind.get("Service", {}).get(svc["name"])
                if s is None:
                    errs.append(f"Ingress/{n}: backend Service {svc['name']} missing")
                elif svc["port"].get("name") not in [sp.get("name") for sp in s["spec"]["ports"]]:
                    errs.append(f"Ingress/{n}: Service {svc['name']} has no port {svc['port']}")
    for n, pdb in by_kind.get("PodDisruptionBudget", {}).items():
        if not workload_with(pdb["spec"]["selector"].get("matchLabels", {})):
            errs.append(f"PodDisruptionBudget/{n}: selector matches no workload")
    for app in SERVICES:
        if ("Deployment", app) in workloads and not any(
                pdb["spec"]["selector"].get("matchLabels", {}).get("app.kubernetes.io/name") == app
                for pdb in by_kind.get("PodDisruptionBudget", {}).values()):
            errs.append(f"Deployment/{app}: no PodDisruptionBudget")

    scaled = []
    for n, h in by_kind.get("HorizontalPodAutoscaler", {}).items():
        scaled.append((f"HorizontalPodAutoscaler/{n}", h["spec"]["scaleTargetRef"]["name"]))
    groups = {"pose-extractor": prefix + "pose-extractor", "encoder": prefix + "encoder"}  # contract Topics.*Group()
    topics = {prefix + "jobs." + t for t in ("requests", "conditions", "frames", "results", "status", "dlq")}
    for n, so in by_kind.get("ScaledObject", {}).items():
        where = f"ScaledObject/{n}"
        scaled.append((where, so["spec"]["scaleTargetRef"]["name"]))
        for t in so["spec"].get("triggers", []):
            md = t.get("metadata", {})
            if t["type"] == "kafka":
                if md.get("bootstrapServers") != env.get("KAFKA_BOOTSTRAP_SERVERS"):
                    errs.append(f"{where}: kafka trigger bootstrapServers {md.get('bootstrapServers')} differs from "
                                f"KAFKA_BOOTSTRAP_SERVERS {env.get('KAFKA_BOOTSTRAP_SERVERS')}")
                if md.get("topic") not in topics:
                    errs.append(f"{where}: topic {md.get('topic')} is not one of ours ({sorted(topics)})")
                if md.get("consumerGroup") not in groups.values():
                    errs.append(f"{where}: consumerGroup {md.get('consumerGroup')} is not a consumer group of ours")
            elif t["type"] == "prometheus":
                q = md.get("query", "")
                want = f'topic="{prefix}jobs.conditions"', f'group="{prefix}animator"', "xdyna_queue_backlog"
                if not all(w in q for w in want):
                    errs.append(f"{where}: query {q!r} should select xdyna_queue_backlog of {want[:2]}")
    # the animators' share-group queue must have one partition, or animators share it only partly
    queue = prefix + "jobs.conditions"
    for n, t in by_kind.get("KafkaTopic", {}).items():
        if t["spec"].get("topicName") == queue and t["spec"].get("partitions") != 1:
            errs.append(f"KafkaTopic/{n}: {queue} has {t['spec'].get('partitions')} partitions, the queue needs 1")
    for n, job in by_kind.get("Job", {}).items():
        script = " ".join(" ".join(c.get("args", [])) for c in job["spec"]["template"]["spec"]["containers"])
        if "kafka-topics.sh" in script and not re.search(r"jobs\.conditions\"?\s*\\?\s*--partitions 1\b", script):
            errs.append(f"Job/{n}: does not create {queue} with --partitions 1")
    if name != "dev":
        claim = pvcs.get("xdyna-models")
        writers = [n for n, j in by_kind.get("Job", {}).items()
                   for c in j["spec"]["template"]["spec"]["containers"]
                   for m in c.get("volumeMounts", []) if m["mountPath"] == "/models" and not m.get("readOnly")]
        if claim is not None and name != "base" and not (claim["spec"].get("dataSourceRef") or claim["spec"].get(
                "dataSource")) and not writers:
            errs.append("PersistentVolumeClaim/xdyna-models: provisioned empty (no dataSource/dataSourceRef) and no "
                        "Job fills it: every animator and pose extractor would wait for a bundle that never comes")
    for where, target in scaled:
        d = workloads.get(("Deployment", target))
        if d is None:
            errs.append(f"{where}: target Deployment {target} missing")
        elif "replicas" in d["spec"]:
            errs.append(f"{where}: Deployment {target} sets spec.replicas, which every apply would reset")
    if name != "dev" and ("Deployment", "animator") in workloads and not any(t == "animator" for _, t in scaled):
        if name != "base":
            errs.append("animator is not autoscaled")
    return errs


def self_test(cmd):
    """Each check catches the defect it is for: break a good gpu-fleet render one way at a time."""
    import copy
    good = render(cmd, os.path.join(K8S, "overlays", "gpu-fleet"))
    assert not check("gpu-fleet", good), check("gpu-fleet", good)

    def find(docs, kind, name):
        return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)

    def pod(docs, name):
        return find(docs, "Deployment", name)["spec"]["template"]["spec"]

    def drop_namespace(docs):
        del find(docs, "ScaledObject", "animator")["metadata"]["namespace"]

    def root_pod(docs):
        del pod(docs, "encoder")["securityContext"]["runAsNonRoot"]

    def floating(docs):
        pod(docs, "gateway")["containers"][0]["image"] = "registry.example.com/xdyna/gateway:latest"

    def wrong_port(docs):
        pod(docs, "encoder")["containers"][0]["livenessProbe"]["httpGet"]["path"] = "/healthz"

    def liveness_hidden(docs):
        pod(docs, "animator")["containers"][0]["startupProbe"] = {"httpGet": {"path": "/health/live",
                                                                             "port": "management"}}

    def metrics_public(docs):
        find(docs, "Ingress", "gateway")["spec"]["rules"][0]["http"]["paths"].append(
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "gateway", "port": {"name": "http"}}}})

    def empty_models(docs):
        docs.remove(find(docs, "Job", "xdyna-model-sync"))

    cases = {"namespace": drop_namespace, "runAsNonRoot": root_pod, "floats": floating, "/healthz": wrong_port,
             "startupProbe on /health/live": liveness_hidden, "exposes /metrics": metrics_public,
             "provisioned empty": empty_models}
    failed = []
    for expect, breaker in cases.items():
        docs = copy.deepcopy(good)
        breaker(docs)
        errs = check("gpu-fleet", docs)
        ok = any(expect in e for e in errs)
        print(f"self-test {breaker.__name__}: {'caught' if ok else 'MISSED'} {errs[:1]}")
        if not ok:
            failed.append(breaker.__name__)
    return 1 if failed else 0


def main():
    if "--self-test" in sys.argv:
        cmd = renderer()
        if cmd is None:
            print("neither kubectl nor kustomize on the PATH: self-test skipped")
            return 0
        return self_test(cmd)
    count, problems = parse_all()
    print(f"parsed {count} YAML documents under {os.path.relpath(K8S)}: "
          f"{'OK' if not problems else str(len(problems)) + ' problem(s)'}")
    for p in problems:
        print("  " + p)
    cmd = renderer()
    if cmd is None:
        print("neither kubectl nor kustomize on the PATH: rendering skipped")
        return 1 if problems else 0
    targets = {"base": os.path.join(K8S, "base")}
    for o in sorted(os.listdir(os.path.join(K8S, "overlays"))):
        targets[o] = os.path.join(K8S, "overlays", o)
    with tempfile.TemporaryDirectory() as tmp:
        # a component is enabled the way the operator enables it: uncommented in gpu-fleet's own
        # `components:` list, so the overlay's namespace and patches apply to what it adds
        fleet = targets["gpu-fleet"]
        with open(os.path.join(fleet, "kustomization.yaml")) as fh:
            fleet_k = yaml.safe_load(fh)
        for comp in sorted(os.listdir(os.path.join(K8S, "components"))):
            d = os.path.join(tmp, "gpu-fleet+" + comp)
            os.makedirs(d)
            k = rebase(fleet_k, fleet, d)
            extra = os.path.relpath(os.path.join(K8S, "components", comp), d)
            if extra not in (k.get("components") or []):
                k["components"] = (k.get("components") or []) + [extra]
            with open(os.path.join(d, "kustomization.yaml"), "w") as fh:
                yaml.safe_dump(k, fh)
            targets["gpu-fleet+" + comp] = d
        for name, path in targets.items():
            try:
                docs = render(cmd, path)
            except RuntimeError as e:
                problems.append(f"{name}: does not render: {e}")
                print(f"{name}: does not render: {e}")
                continue
            errs = check(name.split("+")[0], docs)
            kinds = {}
            for d in docs:
                kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
            summary = ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))
            print(f"{name}: {len(docs)} objects ({summary}): {'OK' if not errs else str(len(errs)) + ' problem(s)'}")
            for e in errs:
                print("  " + e)
            problems += errs
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
