import type { Fleet } from "../../fleet/fleet.js";
import { PluginParams, PluginPatch, ref } from "../../schemas/api.js";
import { PluginManifest, PluginStatus, PluginStatusList } from "../../schemas/dto.js";
import type { App } from "../shared.js";

/** Plugins: manifests, enable flags and configuration (KV). */
export function pluginRoutes(app: App, deps: { fleet: Fleet }): void {
  app.get(
    "/plugins",
    {
      schema: {
        tags: ["plugins"],
        summary: "Every plugin with a manifest: enabled, config, commands, workers that loaded it.",
        response: { 200: ref(PluginStatusList) },
      },
    },
    () => deps.fleet.plugins(),
  );

  app.get(
    "/plugins/:name/manifest",
    {
      schema: {
        tags: ["plugins"],
        summary: "A plugin's manifest as plugin-host published it: commands and the JSON Schema of its config.",
        params: PluginParams,
        response: { 200: ref(PluginManifest) },
      },
    },
    (request) => deps.fleet.pluginManifest(request.params.name),
  );

  app.patch(
    "/plugins/:name",
    {
      schema: {
        tags: ["plugins"],
        summary: "Enable or disable a plugin and/or replace its config (checked against the plugin's config schema).",
        description: "Workers watch the KV record and apply the change without a restart. `config` replaces the whole config.",
        params: PluginParams,
        body: ref(PluginPatch),
        response: { 200: ref(PluginStatus) },
      },
    },
    (request) => deps.fleet.updatePlugin(request.params.name, request.body, request.adminActor),
  );
}
