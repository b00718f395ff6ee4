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
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
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

{{- define "engagement.secretEnv" -}}
{{- $secretName := include "engagement.secretName" . }}
{{- range $key, $_ := .Values.secret.data }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $key }}
      optional: {{ not (has $key $.Values.secret.required) }}
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
{{- end }}

{{/* What every container shares, after its name, image, args and probes. */}}
{{- define "engagement.containerCommon" -}}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
envFrom:
  {{- include "engagement.envFrom" . | nindent 2 }}
{{- end }}
