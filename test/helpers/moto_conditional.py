"""moto's server with conditional writes made atomic, as AWS S3 makes them. moto 5.2.1 honours
If-None-Match: * on PutObject and CompleteMultipartUpload, but checks it and then stores the object
in two steps, unlocked, across its request threads: two writers of one key at once can both pass
the check, and the later one replaces the earlier. Here those two handlers (PutObject, and a POST
on a key: create or complete a multipart upload) run one at a time, so the check holds.
usage: python3 moto_conditional.py HOST PORT"""
import sys
import threading
from moto.s3.responses import S3Response

lock = threading.Lock()


def one_at_a_time(handler):
    def locked(*args, **kwargs):
        with lock:
            return handler(*args, **kwargs)
    return locked


S3Response.put_object = one_at_a_time(S3Response.put_object)
S3Response._key_response_post = one_at_a_time(S3Response._key_response_post)
from moto.server import main  # noqa: E402
main(["-H", sys.argv[1], "-p", sys.argv[2]])
