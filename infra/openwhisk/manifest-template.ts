/**
 * The wskdeploy manifest written next to an OpenWhisk action zip (`wskdeploy -m manifest.yaml`
 * deploys it). Limits mirror what the emulator enforces; the action answers blocking invokes
 * from the agent, so it is not a web action.
 */
export interface ManifestValues {
  packageName: string;
  action: string;
  zip: string;
  memoryMB: number;
  timeoutMs: number;
  concurrency: number;
}

export function renderManifest(v: ManifestValues): string {
  return `# Written by \`beehive package openwhisk\` or \`beehive init openwhisk\`. Deploy with: wskdeploy -m manifest.yaml
---
packages:
  ${v.packageName}:
    version: 1.0
    actions:
      ${v.action}:
        function: ${v.zip}
        runtime: nodejs:20
        main: main
        web: false
        limits:
          memorySize: ${v.memoryMB}
          timeout: ${v.timeoutMs}
          concurrentActivations: ${v.concurrency}
          logSize: 10
        annotations:
          beehive-worker: true
# Point the agent at it:
#   BEEHIVE_PLATFORM=openwhisk BEEHIVE_OPENWHISK_ACTION=${v.packageName}/${v.action}
#   BEEHIVE_OPENWHISK_APIHOST=https://<apihost> BEEHIVE_OPENWHISK_AUTH=<uuid:key>
#   BEEHIVE_CALLBACK_URL=wss://<server address the action reaches>
`;
}
