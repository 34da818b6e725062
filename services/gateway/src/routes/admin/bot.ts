import type { Fleet } from "../../fleet/fleet.js";
import { ref } from "../../schemas/api.js";
import { BotInfo, ProfileUpdate } from "../../schemas/dto.js";
import type { App } from "../shared.js";

/** The bot's identity and profile. */
export function botRoutes(app: App, deps: { fleet: Fleet }): void {
  app.get(
    "/bot",
    { schema: { tags: ["bot"], summary: "The bot's identity (Session ID, display name, network).", response: { 200: ref(BotInfo) } } },
    () => deps.fleet.broker.info(),
  );

  app.put(
    "/profile",
    {
      schema: {
        tags: ["bot"],
        summary: "Change the bot's profile (display name).",
        body: ref(ProfileUpdate),
        response: { 200: ref(BotInfo) },
      },
    },
    (request) => deps.fleet.broker.updateProfile(request.body),
  );
}
