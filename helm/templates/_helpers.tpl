{{/* Names, labels and the pieces every pod shares. */}}

{{- define "engagement.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resource prefix; components append -web, -beat, -worker-<name> (kept under 63 characters). */}}
{{- define "engagement.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "engagement.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of one component: call with (dict "root" $ "component" "web"). */}}
{{- define "engagement.selectorLabels" -}}
app.kubernetes.io/name: {{ include "engagement.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "engagement.labels" -}}
helm.sh/chart: {{ include "engagement.chart" .root }}
{{ include "engagement.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: engagement
{{- end }}

{{/* Labels of the objects that belong to no component (ConfigMap, Secret). */}}
{{- define "engagement.commonLabels" -}}
helm.sh/chart: {{ include "engagement.chart" . }}
app.kubernetes.io/name: {{ include "engagement.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: engagement
{{- end }}

{{- define "engagement.image" -}}
{{- include "engagement.imageRef" (dict "repository" .Values.image.repository "digest" .Values.image.digest
      "tag" (.Values.image.tag | default .Chart.AppVersion)) }}
{{- end }}

{{/* repository:tag, pinned as repository:tag@sha256:... when a digest is given (the tag then only informs). */}}
{{- define "engagement.imageRef" -}}
{{- $ref := printf "%s:%s" .repository (.tag | toString) }}
{{- with .digest }}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" .) }}
{{- fail (printf "an image digest is sha256: followed by 64 lowercase hex digits, not %q" .) }}
{{- end }}
{{- $ref = printf "%s@%s" $ref . }}
{{- end }}
{{- $ref }}
{{- end }}

{{- define "engagement.secretName" -}}
{{- .Values.secret.existingSecret | default (printf "%s-secret" (include "engagement.fullname" .)) }}
{{- end }}

{{- define "engagement.configMapName" -}}
{{- printf "%s-config" (include "engagement.fullname" .) }}
{{- end }}

{{/* Pod annotations: a change of the ConfigMap or of the chart's Secret rolls the pods. An existing Secret is not
     seen by the chart: after changing it, `kubectl rollout restart` the Deployments (docs/deploy.md). */}}
{{- define "engagement.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secret.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The environment of every container: the ConfigMap whole, and each secret variable by name. */}}
{{- define "engagement.envFrom" -}}
- configMapRef:
    name: {{ include "engagement.configMapName" . }}
{{- end }}

{{/* Each secret variable by name, or with secret.asFiles its NAME_FILE: the file the Secret's key is mounted as. */}}
{{- define "engagement.secretEnv" -}}
{{- $secretName := include "engagement.secretName" . }}
{{- range $key, $_ := .Values.secret.data }}
{{- if $.Values.secret.asFiles }}
- name: {{ $key }}_FILE
  value: {{ printf "%s/%s" ($.Values.secret.mountPath | trimSuffix "/") $key | quote }}
{{- else }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $key }}
      optional: {{ not (has $key $.Values.secret.required) }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* What every pod spec shares: call with (dict "root" $ "values" <component values>). */}}
{{- define "engagement.podCommon" -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with (.values.nodeSelector | default .root.Values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.values.tolerations | default .root.Values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.values.affinity | default .root.Values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .root.Values.tmpVolume.sizeLimit }}
  {{- if .root.Values.secret.asFiles }}
  {{- include "engagement.secretVolume" .root | nindent 2 }}
  {{- end }}
{{- end }}

{{/* The Secret as files (secret.asFiles), readable by the pods' group only: the required keys must be in it (the
     pod does not start otherwise, as with environment variables); the optional keys it lacks are left out, and the
     application takes a missing file for an unset variable. */}}
{{- define "engagement.secretVolume" -}}
{{- $secretName := include "engagement.secretName" . }}
{{- $required := list }}
{{- $optional := list }}
{{- range $key, $_ := .Values.secret.data }}
{{- if has $key $.Values.secret.required }}
{{- $required = append $required $key }}
{{- else }}
{{- $optional = append $optional $key }}
{{- end }}
{{- end }}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
      {{- range $source := list (dict "keys" $required "optional" false) (dict "keys" $optional "optional" true) }}
      {{- if $source.keys }}
      - secret:
          name: {{ $secretName }}
          optional: {{ $source.optional }}
          items:
            {{- range $source.keys }}
            - key: {{ . }}
              path: {{ . }}
            {{- end }}
      {{- end }}
      {{- end }}
{{- end }}

{{/* What every container shares, after its name, image, args and probes. */}}
{{- define "engagement.containerCommon" -}}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  {{- if .Values.secret.asFiles }}
  - name: secrets
    mountPath: {{ .Values.secret.mountPath }}
    readOnly: true
  {{- end }}
envFrom:
  {{- include "engagement.envFrom" . | nindent 2 }}
{{- end }}

{{/* The exec probes of workers and beat, from heartbeatProbes: their heartbeat file (config.HEARTBEAT_FILE) is
     at most maxAgeSeconds old. */}}
{{- define "engagement.heartbeatProbes" -}}
{{- $probes := .Values.heartbeatProbes }}
{{- if $probes.enabled }}
{{- $file := required "config.HEARTBEAT_FILE names the file the heartbeatProbes read" .Values.config.HEARTBEAT_FILE }}
{{- range $kind := list "startup" "readiness" "liveness" }}
{{- with index $probes $kind }}
{{ $kind }}Probe:
  exec:
    command: ["engagement", "health", "--heartbeat", {{ $file | quote }}, "--max-age", {{ .maxAgeSeconds | quote }}]
  periodSeconds: {{ .periodSeconds }}
  timeoutSeconds: {{ .timeoutSeconds }}
  failureThreshold: {{ .failureThreshold }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
