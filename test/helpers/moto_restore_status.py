"""moto's server with ListObjectsV2 reporting RestoreStatus, as AWS S3 does. moto 5.2.1 accepts
`OptionalObjectAttributes: ['RestoreStatus']` (the header x-amz-optional-object-attributes) but
returns no RestoreStatus. Here, when a listing asks for it, each GLACIER or DEEP_ARCHIVE object
whose restore moto knows gets one, as AWS documents it (API_RestoreStatus):
  restore in progress  -> <RestoreStatus><IsRestoreInProgress>true</IsRestoreInProgress></RestoreStatus>
  restored, not expired -> IsRestoreInProgress false and RestoreExpiryDate (ISO 8601)
  never restored, or the copy expired -> no RestoreStatus.
moto completes restores at once, so listings show restored copies (test/helpers/restoreProxy.ts
can make them look in progress). Nothing else changes.
usage: python3 moto_restore_status.py HOST PORT"""
import sys
from moto.core.utils import utcnow
from moto.s3.responses import S3Response

original_list_objects_v2 = S3Response.list_objects_v2
split_truncated_keys = S3Response._split_truncated_keys


def restore_status(key):
    if key.storage_class not in ("GLACIER", "DEEP_ARCHIVE") or key._expiry is None:
        return None
    if key.status == "IN_PROGRESS":
        return {"IsRestoreInProgress": True}
    if key._expiry <= utcnow():
        return None
    return {"IsRestoreInProgress": False, "RestoreExpiryDate": key._expiry}


def list_objects_v2(self):
    asked = self.headers.get("x-amz-optional-object-attributes", "")
    if "RestoreStatus" not in [a.strip() for a in asked.split(",")]:
        return original_list_objects_v2(self)
    listed = []

    def split(truncated_keys):
        keys, folders = split_truncated_keys(truncated_keys)
        listed.extend(keys)
        return keys, folders

    def serialized(action_result):
        for item, key in zip(action_result.result["Contents"], listed):
            status = restore_status(key)
            if status:
                item["RestoreStatus"] = status
        return S3Response.serialized(self, action_result)

    # The instance is this request's own (moto makes one per request): safe across threads.
    self._split_truncated_keys = split
    self.serialized = serialized
    return original_list_objects_v2(self)


S3Response.list_objects_v2 = list_objects_v2
from moto.server import main  # noqa: E402
main(["-H", sys.argv[1], "-p", sys.argv[2]])
