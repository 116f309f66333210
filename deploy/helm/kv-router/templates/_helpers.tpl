{{/*
Names, labels, images and the environment every component shares.
*/}}

{{- define "kv-router.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kv-router.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects: (dict "root" $ "component" "gateway") */}}
{{- define "kv-router.componentName" -}}
{{- printf "%s-%s" (include "kv-router.fullname" .root | trunc 50 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "kv-router.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "kv-router.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kv-router
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway") */}}
{{- define "kv-router.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kv-router.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kv-router.componentLabels" -}}
{{ include "kv-router.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kv-router.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kv-router.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Image of an app: (dict "root" $ "app" "kv-collector"). The app is the folder under apps/ and the
Dockerfile docker/<app>.Dockerfile that builds it.
*/}}
{{- define "kv-router.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .app (default .root.Chart.AppVersion .root.Values.image.tag | toString) -}}
{{- end -}}

{{/* Namespace of the vLLM pods. */}}
{{- define "kv-router.discoveryNamespace" -}}
{{- default .Release.Namespace .Values.discovery.namespace -}}
{{- end -}}

{{/*
A value as an environment string. Helm reads numbers as floats, and a float prints 86400000 as
8.64e+07, which no config field accepts; whole numbers are printed as integers.
*/}}
{{- define "kv-router.str" -}}
{{- if or (kindIs "float64" .) (kindIs "float32" .) -}}
{{- if eq (float64 .) (float64 (int64 .)) -}}{{ int64 . }}{{- else -}}{{ . }}{{- end -}}
{{- else -}}
{{- . -}}
{{- end -}}
{{- end -}}

{{/* One plain environment entry as a dict. */}}
{{- define "kv-router.envVar" -}}
{{- toJson (dict "name" .name "value" (include "kv-router.str" .value)) -}}
{{- end -}}

{{/*
The environment of a container: (dict "base" (list of entries) "extra" (map name → value)).
An `extra` entry replaces the chart's entry of the same name instead of repeating it, since a
repeated name is rejected by server-side apply.
*/}}
{{- define "kv-router.env" -}}
{{- $extra := .extra | default dict -}}
{{- $out := list -}}
{{- range .base -}}
{{- if not (hasKey $extra .name) -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- range $name := keys $extra | sortAlpha -}}
{{- $out = append $out (dict "name" $name "value" (include "kv-router.str" (get $extra $name))) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* POD_NAME and POD_NAMESPACE first: later entries refer to them as $(POD_NAME). */}}
{{- define "kv-router.podEnv" -}}
{{- $list := list -}}
{{- $list = append $list (dict "name" "POD_NAME" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.name"))) -}}
{{- $list = append $list (dict "name" "POD_NAMESPACE" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.namespace"))) -}}
{{- toJson $list -}}
{{- end -}}

{{/* KVR_NATS: the bundled server, a Secret's key, or an external URL. */}}
{{- define "kv-router.natsEnv" -}}
{{- $n := .Values.nats -}}
{{- if $n.enabled -}}
{{- toJson (list (dict "name" "KVR_NATS" "value" (printf "nats://%s-nats:4222" (.Release.Name | trunc 58 | trimSuffix "-")))) -}}
{{- else if $n.external.existingSecret -}}
{{- toJson (list (dict "name" "KVR_NATS" "valueFrom" (dict "secretKeyRef" (dict "name" $n.external.existingSecret "key" $n.external.urlKey)))) -}}
{{- else if $n.external.url -}}
{{- toJson (list (dict "name" "KVR_NATS" "value" $n.external.url)) -}}
{{- else -}}
{{- fail "nats: set nats.enabled=true (bundled server), nats.external.url or nats.external.existingSecret" -}}
{{- end -}}
{{- end -}}

{{/* KVR_REDIS and KVR_REDIS_PREFIX. */}}
{{- define "kv-router.redisEnv" -}}
{{- $r := .Values.redis -}}
{{- $list := list -}}
{{- if $r.enabled -}}
{{- $list = append $list (dict "name" "KVR_REDIS" "value" (printf "redis://%s-redis:6379" (.Release.Name | trunc 57 | trimSuffix "-"))) -}}
{{- else if $r.external.existingSecret -}}
{{- $list = append $list (dict "name" "KVR_REDIS" "valueFrom" (dict "secretKeyRef" (dict "name" $r.external.existingSecret "key" $r.external.urlKey))) -}}
{{- else if $r.external.url -}}
{{- $list = append $list (dict "name" "KVR_REDIS" "value" $r.external.url) -}}
{{- else -}}
{{- fail "redis: set redis.enabled=true (bundled server), redis.external.url or redis.external.existingSecret" -}}
{{- end -}}
{{- $list = append $list (dict "name" "KVR_REDIS_PREFIX" "value" $r.prefix) -}}
{{- toJson $list -}}
{{- end -}}

{{/* The discovery block shared by gateway, collector and load-scorer. */}}
{{- define "kv-router.discoveryEnv" -}}
{{- $d := .Values.discovery -}}
{{- $list := list -}}
{{- $list = append $list (dict "name" "KVR_DISCOVERY__KIND" "value" "kubernetes") -}}
{{- $list = append $list (dict "name" "KVR_DISCOVERY__NAMESPACE" "value" (include "kv-router.discoveryNamespace" .)) -}}
{{- $list = append $list (dict "name" "KVR_DISCOVERY__LABEL_SELECTOR" "value" $d.labelSelector) -}}
{{- $list = append $list (dict "name" "KVR_DISCOVERY__HTTP_PORT" "value" (include "kv-router.str" $d.httpPort)) -}}
{{- $list = append $list (dict "name" "KVR_DISCOVERY__ZMQ_PORT" "value" (include "kv-router.str" $d.zmqPort)) -}}
{{- $list = append $list (dict "name" "KVR_DISCOVERY__REPLAY_PORT" "value" (include "kv-router.str" $d.replayPort)) -}}
{{- if $d.modelKey -}}
{{- $list = append $list (dict "name" "KVR_DISCOVERY__MODEL_KEY" "value" $d.modelKey) -}}
{{- end -}}
{{- toJson $list -}}
{{- end -}}

{{/* Standard OTEL_* variables; nothing while no endpoint is set (tracing stays off). */}}
{{- define "kv-router.otelEnv" -}}
{{- $o := .Values.otel -}}
{{- $list := list -}}
{{- if $o.endpoint -}}
{{- $list = append $list (dict "name" "OTEL_EXPORTER_OTLP_ENDPOINT" "value" $o.endpoint) -}}
{{- $list = append $list (dict "name" "OTEL_TRACES_SAMPLER" "value" $o.sampler) -}}
{{- $list = append $list (dict "name" "OTEL_TRACES_SAMPLER_ARG" "value" (include "kv-router.str" $o.samplerArg)) -}}
{{- $list = append $list (dict "name" "OTEL_RESOURCE_ATTRIBUTES" "value" "k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE)") -}}
{{- end -}}
{{- toJson $list -}}
{{- end -}}

{{/* Probes of an app serving /health (liveness) and /ready (readiness) on a named port. */}}
{{- define "kv-router.probes" -}}
livenessProbe:
  httpGet: { path: /health, port: {{ .port }} }
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /ready, port: {{ .port }} }
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}

{{/* Settings that must hold together; rendering stops with the reason otherwise. */}}
{{- define "kv-router.validate" -}}
{{- $partitions := int .Values.partitions -}}
{{- if lt $partitions 1 -}}
{{- fail "partitions must be at least 1" -}}
{{- end -}}
{{- if lt (int .Values.model.blockSize) 1 -}}
{{- fail "model.blockSize must be at least 1 (vLLM --block-size)" -}}
{{- end -}}
{{- if not .Values.model.name -}}
{{- fail "model.name must name the model the vLLM pods serve" -}}
{{- end -}}
{{- if not (isAbs .Values.gateway.tokenizer.socketPath) -}}
{{- fail "gateway.tokenizer.socketPath must be an absolute path" -}}
{{- end -}}
{{- $a := .Values.indexer.autoscaling -}}
{{- if $a.enabled -}}
{{- if gt (int $a.maxReplicas) $partitions -}}
{{- fail (printf "indexer.autoscaling.maxReplicas (%d) exceeds partitions (%d): a replica without a partition adds no write capacity" (int $a.maxReplicas) $partitions) -}}
{{- end -}}
{{- if gt (int $a.minReplicas) (int (include "kv-router.indexerMaxReplicas" .)) -}}
{{- fail "indexer.autoscaling.minReplicas exceeds its maxReplicas" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The indexer autoscaler's ceiling: its maxReplicas, or the partition count when 0. */}}
{{- define "kv-router.indexerMaxReplicas" -}}
{{- $max := int .Values.indexer.autoscaling.maxReplicas -}}
{{- if eq $max 0 -}}{{ int .Values.partitions }}{{- else -}}{{ $max }}{{- end -}}
{{- end -}}
