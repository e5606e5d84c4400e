// The SLB model (domains, groups, upstreams, agent reports and their field rules) is
// defined once in @leengine/common, which the console shares; re-exported for the SLB's users.
export {
  type AgentStatus,
  AgentStatusSchema,
  bounded,
  type Canary,
  CanarySchema,
  CanaryTokenSchema,
  CookieNameSchema,
  DNS_LABEL,
  type DomainConfig,
  type DomainConfigInput,
  DomainConfigSchema,
  type DomainSettings,
  type DomainSettingsInput,
  DomainSettingsSchema,
  HeaderNameSchema,
  HeadersSchema,
  HeaderValueSchema,
  HOST_NAME,
  HostNameSchema,
  Ipv4CidrSchema,
  Ipv4Schema,
  LabelSchema,
  type Location,
  LocationPathSchema,
  LocationSchema,
  ProxyOverridesSchema,
  type ProxySettings,
  ProxySettingsSchema,
  RequestHeaderSchema,
  ResponseHeaderSchema,
  type SlbGroup,
  SlbGroupSchema,
  type SpecialSettings,
  SpecialSettingsSchema,
  TlsSchema,
  type Upstream,
  UpstreamSchema,
  UpstreamsSchema,
} from '@leengine/common';
export { type AgentSettings, type AgentSettingsInput, AgentSettingsSchema } from './agent/agentSettings.ts';
export { NginxControl } from './agent/nginxControl.ts';
export { NginxRuntime } from './agent/nginxRuntime.ts';
export { type ApplyTimings, SlbAgent, type SlbAgentDeps } from './agent/slbAgent.ts';
export { DOMAIN_CLAIMS, parseSlbKey, SLB_ROOT, type SlbKey, slbKeys } from './etcd/keys.ts';
export { type KeyChange, type KeyState, PrefixWatch, type PrefixWatchOptions } from './etcd/prefixWatch.ts';
export { SlbStore, type Versioned } from './etcd/slbStore.ts';
export { renderControlBatch, renderDynamicState } from './render/dynamicState.ts';
export { quote, quoteLiteral } from './render/nginxString.ts';
export { type ListenContext, renderDomain } from './render/renderDomain.ts';
export { type MainContext, renderMain } from './render/renderMain.ts';
