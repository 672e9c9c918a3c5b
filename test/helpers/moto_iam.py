"""Copied from the team recipe ../shared/recipes/moto_iam.py (see that folder's s3-emulator.md, "With IAM enforced"),
so that CI on a clean clone has it.

moto's server with one fix for IAM-enforced runs: moto 5.2.1 rebuilds the request it checks SigV4 on
from the query as received, and botocore takes that query as already encoded, so a ListObjectsV2 sent
with prefix=a/ (unencoded, as the SDKs send it) is checked as 'prefix=a/' where the client signed
'prefix=a%2F'. Here each key and value is encoded the SigV4 way first.
usage: python3 moto_iam.py HOST PORT"""
import sys
from urllib.parse import urlsplit, urlunsplit, unquote, quote
import moto.core.authorization as auth
orig = auth.ActionAuthenticatorMixin._authenticate_and_authorize_action
def fixed(self, iam_request_cls, resource="*"):
    parts = urlsplit(self.uri)
    if parts.query:
        pairs = [p.partition("=") for p in parts.query.split("&")]
        enc = lambda x: quote(unquote(x), safe="-_.~")
        q = "&".join(enc(k) + "=" + enc(v) for k, _, v in pairs)
        saved, self.uri = self.uri, urlunsplit(parts._replace(query=q))
        try: return orig(self, iam_request_cls, resource)
        finally: self.uri = saved
    return orig(self, iam_request_cls, resource)
auth.ActionAuthenticatorMixin._authenticate_and_authorize_action = fixed
from moto.server import main
main(["-H", sys.argv[1], "-p", sys.argv[2]])
