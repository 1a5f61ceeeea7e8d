"""Checks of the deployment files against the app they deploy.

Run by `make test` (python3 -m unittest deploy/test_deploy.py), beside
hadolint and yamllint: no cluster is needed, only what the files promise.
"""

import pathlib
import re
import unittest

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def load(path):
    return list(yaml.safe_load_all((DEPLOY / path).read_text()))


def app_routes():
    startup = (ROOT / "crates/app/src/startup.rs").read_text()
    return set(re.findall(r'\.route\("([^"]+)"', startup))


def app_metrics():
    source = (ROOT / "crates/app/src/metrics.rs").read_text()
    names = set(re.findall(r'"((?:http|db|rate_limit|webhook)_[a-z_]+)"', source))
    counters = {"http_requests", "db_pool_checkouts", "db_pool_wait_seconds", "db_pool_timeouts", "db_deadline_exceeded",
                "db_errors_unavailable", "db_errors_internal", "db_write_batches", "db_batched_writes",
                "webhook_deliveries"}
    # Counters are exposed with a _total suffix, histograms with _bucket.
    return names | {n + "_total" for n in names & counters} | {n + "_bucket" for n in names}


# PostgreSQL's default max_connections, which the manifests assume (a
# managed database's small tiers allow fewer: see docs/operations.md,
# Sizing), less its 3 superuser slots and 10 for migrations, the CLI and
# an operator's psql.
DATABASE_CONNECTIONS = 100 - 3 - 10


def pool_size(env):
    """The pool size an instance runs with (the app's default when unset)."""
    default = re.search(r'"database\.pool_max_size", (\d+)', (ROOT / "crates/app/src/settings.rs").read_text())
    return int(env.get("APP__DATABASE__POOL_MAX_SIZE") or default.group(1))


class Kubernetes(unittest.TestCase):
    def setUp(self):
        (self.deployment,) = load("k8s/deployment.yaml")
        self.container = self.deployment["spec"]["template"]["spec"]["containers"][0]

    def test_kustomization_lists_files_that_exist(self):
        (kustomization,) = load("k8s/kustomization.yaml")
        for resource in kustomization["resources"]:
            self.assertTrue((DEPLOY / "k8s" / resource).is_file(), resource)

    def test_probes_hit_routes_the_app_serves(self):
        routes = app_routes()
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            self.assertIn(self.container[probe]["httpGet"]["path"], routes, probe)
        self.assertEqual(self.container["readinessProbe"]["httpGet"]["path"], "/health/ready")
        self.assertEqual(self.container["livenessProbe"]["httpGet"]["path"], "/health/live")

    def test_port_matches_the_image(self):
        exposed = re.search(r"^EXPOSE (\d+)", (ROOT / "Dockerfile").read_text(), re.M).group(1)
        self.assertEqual(self.container["ports"][0]["containerPort"], int(exposed))
        (service,) = load("k8s/service.yaml")
        self.assertEqual(service["spec"]["ports"][0]["targetPort"], self.container["ports"][0]["name"])

    def test_secrets_come_from_secret_references_only(self):
        env = {e["name"]: e for e in self.container["env"]}
        for name in ("DATABASE_URL", "APP__AUTH__API_KEYS"):
            self.assertEqual(env[name]["valueFrom"]["secretKeyRef"]["name"], "garage-secrets", name)
            self.assertNotIn("value", env[name])

    def test_resources_and_a_locked_down_container(self):
        self.assertIn("requests", self.container["resources"])
        self.assertIn("memory", self.container["resources"]["limits"])
        pod = self.deployment["spec"]["template"]["spec"]
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertTrue(self.container["securityContext"]["readOnlyRootFilesystem"])
        self.assertFalse(self.container["securityContext"]["allowPrivilegeEscalation"])

    def test_a_read_only_container_can_still_spool_imports_to_tmp(self):
        mounts = {m["mountPath"]: m["name"] for m in self.container.get("volumeMounts", [])}
        self.assertIn("/tmp", mounts)
        volumes = {v["name"]: v for v in self.deployment["spec"]["template"]["spec"]["volumes"]}
        self.assertIn("emptyDir", volumes[mounts["/tmp"]])
        (compose,) = load("docker-compose.yml")
        app = next(s for s in compose["services"].values() if s.get("read_only"))
        self.assertIn("/tmp", app.get("tmpfs", []))

    def test_the_most_replicas_fit_the_databases_connections(self):
        env = {e["name"]: e.get("value") for e in self.container["env"]}
        (hpa,) = load("k8s/hpa.yaml")
        most = hpa["spec"]["maxReplicas"] * pool_size(env)
        self.assertLessEqual(most, DATABASE_CONNECTIONS)

    def test_shutdown_grace_outlasts_the_app_drain(self):
        env = {e["name"]: e.get("value") for e in self.container["env"]}
        grace = self.deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        pre_stop = self.container["lifecycle"]["preStop"]["sleep"]["seconds"]
        drain = int(env["APP__SERVER__DRAIN_SECONDS"])
        self.assertGreater(grace, pre_stop + drain + int(env["APP__SERVER__SHUTDOWN_TIMEOUT"]))

    def test_a_stopping_pod_stops_being_routed_before_it_refuses(self):
        # The endpoints are updated while preStop sleeps; then readiness says
        # 503 for the drain while the pod still serves.
        env = {e["name"]: e.get("value") for e in self.container["env"]}
        self.assertGreaterEqual(self.container["lifecycle"]["preStop"]["sleep"]["seconds"], 5)
        self.assertGreaterEqual(int(env["APP__SERVER__DRAIN_SECONDS"]), 1)
        self.assertEqual(self.container["readinessProbe"]["httpGet"]["path"], "/health/ready")

    def test_proxies_are_named_and_metrics_are_off_the_public_port(self):
        env = {e["name"]: e for e in self.container["env"]}
        self.assertNotIn("APP__RATE_LIMIT__TRUST_FORWARDED_FOR", env, "refused by the app")
        for entry in env["APP__SERVER__TRUSTED_PROXIES"]["value"].split(","):
            self.assertRegex(entry.strip(), r"^[0-9a-f:.]+(/\d+)?$")
        metrics_port = int(env["APP__METRICS__ADDR"]["value"].rsplit(":", 1)[1])
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.assertEqual(ports["metrics"], metrics_port)
        self.assertNotEqual(ports["http"], metrics_port)
        annotations = self.deployment["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(int(annotations["prometheus.io/port"]), metrics_port)
        (service,) = load("k8s/service.yaml")
        self.assertNotIn(metrics_port, [p.get("targetPort") for p in service["spec"]["ports"]])
        self.assertNotIn("metrics", [p.get("targetPort") for p in service["spec"]["ports"]])
        self.assertTrue(env["APP__REDIS__URL"]["valueFrom"]["secretKeyRef"]["optional"])

    def test_only_the_ingress_reaches_the_api_and_only_prometheus_the_metrics(self):
        (policy,) = load("k8s/networkpolicy.yaml")
        labels = self.deployment["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(policy["spec"]["podSelector"]["matchLabels"], labels)
        by_port = {}
        for rule in policy["spec"]["ingress"]:
            for port in rule["ports"]:
                by_port[port["port"]] = rule["from"]
        names = {p["name"] for p in self.container["ports"]}
        self.assertEqual(set(by_port), names, "every port has its rule, and only those")
        for sources in by_port.values():
            self.assertTrue(all("namespaceSelector" in s for s in sources))

    def test_autoscaler_targets_the_deployment(self):
        (hpa,) = load("k8s/hpa.yaml")
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], self.deployment["metadata"]["name"])
        self.assertGreaterEqual(hpa["spec"]["minReplicas"], 2)


class CloudRun(unittest.TestCase):
    def test_probes_secrets_and_cloud_sql(self):
        (service,) = load("cloudrun/service.yaml")
        template = service["spec"]["template"]
        self.assertIn("run.googleapis.com/cloudsql-instances", template["metadata"]["annotations"])
        container = template["spec"]["containers"][0]
        routes = app_routes()
        for probe in ("startupProbe", "livenessProbe"):
            self.assertIn(container[probe]["httpGet"]["path"], routes)
        env = {e["name"]: e for e in container["env"]}
        self.assertIn("secretKeyRef", env["DATABASE_URL"]["valueFrom"])
        self.assertNotIn("APP__RATE_LIMIT__TRUST_FORWARDED_FOR", env)
        self.assertIn("/", env["APP__SERVER__TRUSTED_PROXIES"]["value"])
        scale = int(template["metadata"]["annotations"]["autoscaling.knative.dev/maxScale"])
        plain = {name: e.get("value") for name, e in env.items()}
        self.assertLessEqual(scale * pool_size(plain), DATABASE_CONNECTIONS)
        # Cloud Run stops routing before SIGTERM and kills 10 s after it.
        self.assertEqual(env["APP__SERVER__DRAIN_SECONDS"]["value"], "0")
        self.assertLess(int(env["APP__SERVER__SHUTDOWN_TIMEOUT"]["value"]), 10)


class Compose(unittest.TestCase):
    def test_the_balancer_runs_the_tested_config_in_front_of_every_replica(self):
        (compose,) = load("docker-compose.yml")
        app, lb = compose["services"]["app"], compose["services"]["lb"]
        replicas = app["deploy"]["replicas"]
        self.assertIn("./haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro", lb["volumes"])
        config = (DEPLOY / "haproxy/haproxy.cfg").read_text()
        servers = re.findall(r'^\s*server \S+ "\$\{(GARAGE_\d)\}"', config, re.M)
        self.assertEqual(len(servers), replicas)
        self.assertEqual(sorted(lb["environment"]), sorted(servers + ["LISTEN"]))
        for i, server in enumerate(sorted(servers), 1):
            self.assertEqual(lb["environment"][server], f"{compose['name']}-app-{i}:8080")
        self.assertNotIn("ports", app, "only the balancer is published")
        # Its health check is the readiness the app turns 503 while draining.
        self.assertIn("option httpchk GET /health/ready", config)
        self.assertIn("/health/ready", app_routes())
        self.assertIn("APP__SERVER__TRUSTED_PROXIES", app["environment"])
        self.assertLessEqual(replicas * pool_size(app["environment"]), DATABASE_CONNECTIONS)

    def test_app_waits_for_a_healthy_database(self):
        (compose,) = load("docker-compose.yml")
        app = compose["services"]["app"]
        self.assertEqual(app["depends_on"]["db"]["condition"], "service_healthy")
        self.assertTrue(app["environment"]["DATABASE_URL"].startswith("postgres://"))


class StaticHost(unittest.TestCase):
    def test_every_location_keeps_the_security_headers(self):
        conf = (DEPLOY / "static/nginx.conf").read_text()
        locations = re.findall(r"location [^{]+\{([^}]*)\}", conf)
        self.assertGreaterEqual(len(locations), 2)
        for block in locations:
            for header in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                           "Content-Security-Policy"):
                self.assertIn(f"add_header {header}", block)
            csp = re.search(r'Content-Security-Policy "([^"]+)"', block).group(1)
            self.assertRegex(csp, r"connect-src 'self' https://")
            self.assertIn("frame-ancestors 'none'", csp)


class Scrape(unittest.TestCase):
    def test_prometheus_scrapes_the_port_pods_name(self):
        (doc,) = load("prometheus/scrape.yml")
        (job,) = doc["scrape_configs"]
        self.assertEqual(job["job_name"], "garage")
        sources = [tuple(r.get("source_labels", [])) for r in job["relabel_configs"]]
        self.assertIn(("__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"), sources)


class Alerts(unittest.TestCase):
    def setUp(self):
        (doc,) = load("prometheus/alerts.yml")
        self.rules = [r for group in doc["groups"] for r in group["rules"]]
        self.runbook = (ROOT / "docs/operations.md").read_text().lower()

    def test_the_promised_alerts_exist(self):
        names = {r["alert"] for r in self.rules}
        self.assertEqual(names, {"GarageHigh5xxRatio", "GarageHighP99Latency", "GarageInstanceDown", "GarageNotReady",
                                 "GarageWebhookBacklog"})

    def test_each_alert_is_complete_and_has_a_runbook(self):
        for rule in self.rules:
            self.assertTrue(rule["expr"].strip(), rule["alert"])
            self.assertRegex(rule["for"], r"^\d+[smh]$")
            self.assertIn(rule["labels"]["severity"], {"page", "ticket"})
            anchor = rule["annotations"]["runbook"].split("#")[1]
            self.assertIn(f"### {anchor}", self.runbook, f"no runbook for {rule['alert']}")

    def test_alerts_use_metrics_the_app_exports(self):
        exported = app_metrics()
        for rule in self.rules:
            used = set(re.findall(r"\b((?:http|db|webhook)_[a-z_]+)\b", rule["expr"]))
            self.assertTrue(used <= exported, f"{rule['alert']} uses {used - exported}")


class Workflow(unittest.TestCase):
    def setUp(self):
        self.text = (ROOT / ".github/workflows/ci.yml").read_text()
        self.jobs = yaml.safe_load(self.text)["jobs"]

    def test_deploy_only_from_main_after_tests(self):
        jobs = self.jobs
        self.assertIn("test", jobs["image"]["needs"])
        deploys = [name for name in jobs if name.startswith("deploy-")]
        self.assertEqual(set(deploys), {"deploy-kubernetes", "deploy-cloudrun"})
        for job in ["image", *deploys]:
            self.assertIn("refs/heads/main", jobs[job]["if"])
            self.assertIn("push", jobs[job]["if"])
        for job in deploys:
            self.assertEqual(jobs[job]["needs"], "image")
            self.assertIn("vars.DEPLOY_TARGET", jobs[job]["if"])

    def test_the_test_job_runs_make_test_and_installs_no_tools_of_its_own(self):
        steps = self.jobs["test"]["steps"]
        runs = " ".join(step.get("run", "") for step in steps)
        self.assertIn("make test", runs)
        for tool in ("cargo install", "pip install", "schemathesis", "yamllint"):
            self.assertNotIn(tool, runs)
        services = self.jobs["test"]["services"]
        self.assertTrue(services["postgres"]["image"].startswith("postgres:"))
        self.assertTrue(services["redis"]["image"].startswith("redis:"))

    def test_secrets_reach_scripts_through_env_only(self):
        for name, job in self.jobs.items():
            for step in job.get("steps", []):
                self.assertNotIn("${{", step.get("run", ""), f"{name}: {step.get('name')}")


def app_largest_body():
    """The largest request body the API accepts: its MAX_*_BYTES constants."""
    sizes = []
    for path in (ROOT / "crates/api/src").rglob("*.rs"):
        for expr in re.findall(r"const MAX_\w*BYTES: usize = ([\d_\s*]+);", path.read_text()):
            size = 1
            for factor in expr.split("*"):
                size *= int(factor.strip().replace("_", ""))
            sizes.append(size)
    return max(sizes)


def app_longest_request_seconds():
    """An import: its body within server.body_timeout, then its database work's deadline."""
    settings = (ROOT / "crates/app/src/settings.rs").read_text()
    body = int(re.search(r'set_default\("server\.body_timeout", (\d+)\)', settings).group(1))
    db = (ROOT / "crates/infra/src/db.rs").read_text()
    patient = int(re.search(r"const PATIENT: Duration = Duration::from_secs\((\d+)\);", db).group(1))
    return body + patient


def nginx_size(value):
    """An nginx size ("33m", "512k", "1g", "1048576") in bytes."""
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", str(value).lower()).groups()
    return int(number) * 1024 ** " kmg".index(unit or " ")


class Ingress(unittest.TestCase):
    def setUp(self):
        (self.ingress,) = load("k8s/ingress.yaml")
        self.annotations = self.ingress["metadata"]["annotations"]
        self.issuers = {i["metadata"]["name"]: i for i in load("k8s/cluster-issuer.yaml")}

    def test_it_routes_to_the_service_port(self):
        (service,) = load("k8s/service.yaml")
        ports = service["spec"]["ports"]
        for rule in self.ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                self.assertEqual(backend["name"], service["metadata"]["name"])
                port = backend["port"]
                if "name" in port:
                    self.assertIn(port["name"], [p["name"] for p in ports])
                else:
                    self.assertIn(port["number"], [p["port"] for p in ports])

    def test_every_host_has_its_certificate(self):
        rule_hosts = {rule["host"] for rule in self.ingress["spec"]["rules"]}
        tls_hosts = {host for tls in self.ingress["spec"]["tls"] for host in tls["hosts"]}
        self.assertEqual(tls_hosts, rule_hosts)
        for tls in self.ingress["spec"]["tls"]:
            self.assertTrue(tls["secretName"])

    def test_cert_manager_asks_lets_encrypt_through_this_ingress_class(self):
        issuer = self.issuers[self.annotations["cert-manager.io/cluster-issuer"]]
        self.assertEqual(issuer["kind"], "ClusterIssuer")
        self.assertTrue(issuer["apiVersion"].startswith("cert-manager.io/"))
        acme = issuer["spec"]["acme"]
        self.assertEqual(acme["server"], "https://acme-v02.api.letsencrypt.org/directory")
        self.assertTrue(acme["privateKeySecretRef"]["name"])
        self.assertIn("@", acme["email"])
        classes = [s["http01"]["ingress"].get("ingressClassName", s["http01"]["ingress"].get("class"))
                   for s in acme["solvers"] if "http01" in s]
        self.assertEqual(classes, [self.ingress["spec"]["ingressClassName"]])
        for other in self.issuers.values():
            self.assertEqual(other["spec"]["acme"]["solvers"], acme["solvers"], other["metadata"]["name"])

    def test_https_only_with_room_for_imports(self):
        prefix = "nginx.ingress.kubernetes.io/"
        self.assertEqual(self.annotations[prefix + "force-ssl-redirect"], "true")
        self.assertNotIn(prefix + "configuration-snippet", self.annotations, "refused by default")
        self.assertNotIn(prefix + "server-snippet", self.annotations, "refused by default")
        self.assertGreaterEqual(nginx_size(self.annotations[prefix + "proxy-body-size"]), app_largest_body())
        self.assertGreaterEqual(int(self.annotations[prefix + "proxy-read-timeout"]), app_longest_request_seconds())

    def test_kustomization_applies_both(self):
        (kustomization,) = load("k8s/kustomization.yaml")
        self.assertIn("ingress.yaml", kustomization["resources"])
        self.assertIn("cluster-issuer.yaml", kustomization["resources"])

    def test_the_network_policy_admits_the_ingress_controller_to_the_api_port(self):
        # ingress-nginx (class nginx) runs in the ingress-nginx namespace.
        self.assertEqual(self.ingress["spec"]["ingressClassName"], "nginx")
        (policy,) = load("k8s/networkpolicy.yaml")
        (service,) = load("k8s/service.yaml")
        api_port = service["spec"]["ports"][0]["targetPort"]
        namespaces = [source["namespaceSelector"]["matchLabels"].get("kubernetes.io/metadata.name")
                      for rule in policy["spec"]["ingress"] if api_port in [p["port"] for p in rule["ports"]]
                      for source in rule["from"]]
        self.assertIn("ingress-nginx", namespaces)


if __name__ == "__main__":
    unittest.main()
