{{/* Name of every object; the release name is the prefix unless it already says kubeplane. */}}
{{- define "kubeplane.fullname" -}}
{{- if contains "kubeplane" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-kubeplane" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubeplane.labels" -}}
app.kubernetes.io/name: kubeplane
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kubeplane.selectorLabels" -}}
app.kubernetes.io/name: kubeplane
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubeplane.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* kubeplane serves exactly one proxy mode of the three kube-proxy has. */}}
{{- define "kubeplane.validate" -}}
{{- if not (has .Values.proxy.mode (list "iptables" "nftables" "ipvs")) -}}
{{- fail (printf "proxy.mode must be iptables, nftables or ipvs, not %q" .Values.proxy.mode) -}}
{{- end -}}
{{- if not (has .Values.ingress.service.type (list "none" "NodePort" "LoadBalancer")) -}}
{{- fail (printf "ingress.service.type must be none, NodePort or LoadBalancer, not %q" .Values.ingress.service.type) -}}
{{- end -}}
{{- if not (or .Values.proxy.enabled .Values.dns.enabled .Values.ingress.enabled) -}}
{{- fail "at least one of proxy.enabled, dns.enabled and ingress.enabled must be true" -}}
{{- end -}}
{{- end -}}
