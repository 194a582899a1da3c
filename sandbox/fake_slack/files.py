"""The fake's stand-in for Slack's file uploads: files.getUploadURLExternal, the upload URL, completeUploadExternal.

This is the three-step upload `files_upload_v2` makes: ask for an upload URL, POST the bytes there, then
complete the upload to share the file in conversations (each share is a message carrying the file).
"""

from __future__ import annotations

import copy
import mimetypes
import secrets
from typing import Any

from sandbox.fake_slack.chat import ChatApi
from sandbox.fake_slack.state import ApiError, Call, as_int, as_list, invalid_arguments, web_api


class FilesApi(ChatApi):
    """Uploaded files, the files.* methods and the upload endpoint they hand out."""

    def files(self) -> list[dict[str, Any]]:
        """Return uploaded files with their metadata and raw `content` bytes, oldest first."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._files.values()]

    @web_api("files.getUploadURLExternal")
    def _files_get_upload_url_external(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        filename = str(p.get("filename") or "")
        if not filename:
            raise invalid_arguments("missing required field: filename")
        length = as_int(p.get("length"), -1, "length")
        if length < 0:
            raise invalid_arguments("missing required field: length")
        file_id = self._new_id("F")
        upload_key = secrets.token_urlsafe(16)
        now = int(self.clock())
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self._files[file_id] = {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": filename,
            "title": filename,
            "mimetype": mimetype,
            "filetype": filename.rsplit(".", 1)[-1].lower() if "." in filename else "binary",
            "pretty_type": mimetype,
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": length,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{self.url}/files-pri/{self.team_id}-{file_id}/{filename}",
            "url_private_download": f"{self.url}/files-pri/{self.team_id}-{file_id}/download/{filename}",
            "permalink": f"{self.team_url}files/{self.bot_user_id}/{file_id}/{filename}",
            "alt_txt": p.get("alt_txt"),
            "snippet_type": p.get("snippet_type"),
            "channels": [],
            "groups": [],
            "ims": [],
            "shares": {},
            "comments_count": 0,
            "initial_comment": None,
            "thread_ts": None,
            "uploaded": False,
            "completed": False,
            "content": b"",
        }
        self._uploads[upload_key] = file_id
        return {"ok": True, "upload_url": f"{self.url}/upload/v1/{upload_key}", "file_id": file_id}

    @web_api("files.completeUploadExternal")
    def _files_complete_upload_external(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        entries = p.get("files")
        if not isinstance(entries, list) or not entries:
            raise invalid_arguments("missing required field: files")
        chosen: list[dict[str, Any]] = []
        for entry in entries:
            record = self._files.get(str(entry.get("id") if isinstance(entry, dict) else ""))
            if record is None or not record["uploaded"]:
                raise ApiError("file_not_found")
            chosen.append(record)
        targets = as_list(p.get("channels")) or ([str(p["channel_id"])] if p.get("channel_id") else [])
        # Validate every target before changing anything, so a failed call leaves no half-shared files.
        channels = [self._postable_channel(c, allow_user=False) for c in targets]
        thread_ts = self._thread_ts(p)
        for entry, record in zip(entries, chosen, strict=True):
            if entry.get("title"):
                record["title"] = entry["title"]
            record["completed"] = True
            record["initial_comment"] = p.get("initial_comment")
            record["thread_ts"] = thread_ts
        for ch in channels:
            kind = "ims" if ch.info.get("is_im") else "groups" if ch.info.get("is_private") else "channels"
            message = self._bot_message({"text": str(p.get("initial_comment") or "")})
            message.update({"upload": True, "display_as_bot": False})
            for record in chosen:
                record[kind].append(ch.info["id"])
            message["files"] = [
                {k: v for k, v in copy.deepcopy(r).items() if k not in ("content", "uploaded", "completed")}
                for r in chosen
            ]
            if p.get("blocks"):
                message["blocks"] = p["blocks"]
            self._store_message(ch, message, thread_ts, broadcast=False)
        for record in chosen:
            self._emit({"type": "file_shared", "file_id": record["id"], "channels": targets})
        return {"ok": True, "files": [{"id": r["id"], "title": r["title"]} for r in chosen]}

    def _handle_upload(self, key: str, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
        with self._lock:
            file_id = self._uploads.get(key)
            if file_id is None or file_id not in self._files:
                self._calls.append(
                    Call("upload", {"upload_key": key, "size": len(data)}, headers, self.clock(), 404)
                )
                return 404, "not_found"
            record = self._files[file_id]
            record["content"] = data
            record["size"] = len(data)
            record["uploaded"] = True
            self._calls.append(
                Call("upload", {"file_id": file_id, "size": len(data)}, headers, self.clock(), 200)
            )
            self._emit({"type": "file_uploaded", "file_id": file_id})
        self._flush()
        return 200, f"OK - {len(data)}"
