"""Build people and tickets through the public API (random ids, sensible defaults)."""

from __future__ import annotations

from typing import Any

import httpx

from .stack import unique


async def put_person(
    client: httpx.AsyncClient, headers: dict[str, str], person_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    person_id = person_id or unique("person")
    body = {"name": f"Person {person_id}", "email": f"{person_id}@example.com", **fields}
    response = await client.put(f"/api/v1/people/{person_id}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def open_ticket(
    client: httpx.AsyncClient, headers: dict[str, str], requester_id: str, **fields: Any
) -> dict[str, Any]:
    body = {
        "type": "incident",
        "title": "Cannot reach the VPN",
        "description": "The client times out since this morning.",
        "requester_id": requester_id,
        "impact": "medium",
        "urgency": "medium",
        **fields,
    }
    response = await client.post("/api/v1/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], ticket_id: str, to: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/tickets/{ticket_id}/transitions", json={"to": to, **fields}, headers=headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
