"""The floor under bench/throughput.py's single-turn figure: no Bot Framework and no work, only
the same two HTTP hops (the activity in, the reply out to the connector, then the answer).

    python bench/http_floor_bot.py PORT
"""

from __future__ import annotations

import json
import sys

import aiohttp
from aiohttp import web


def make_app() -> web.Application:
    app = web.Application()

    async def open_session(app: web.Application) -> None:
        app["session"] = aiohttp.ClientSession()

    async def close_session(app: web.Application) -> None:
        await app["session"].close()

    async def messages(request: web.Request) -> web.Response:
        activity = await request.json()
        url = (
            f"{activity['serviceUrl']}/v3/conversations/{activity['conversation']['id']}"
            f"/activities/{activity['id']}"
        )
        reply = json.dumps({"type": "message", "text": activity.get("text", "")})
        headers = {"Content-Type": "application/json"}
        async with app["session"].post(url, data=reply, headers=headers) as response:
            await response.read()
        return web.Response(status=201)

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_post("/api/messages", messages)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
