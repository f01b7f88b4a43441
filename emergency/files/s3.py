"""The S3-compatible kind of the file store (AWS S3, MinIO, Ceph RGW, ...), through boto3."""

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from emergency.errors import NotFound
from emergency.files.store import CHUNK_BYTES, FileStore, StoredObject, check_key, guess_type


class S3Store(FileStore):
    """Objects in one bucket under an optional prefix; boto3 streams uploads in parts."""

    kind = "s3"

    def __init__(self, client, bucket, prefix="", chunk_bytes=CHUNK_BYTES):
        self.client, self.bucket, self.chunk_bytes = client, bucket, chunk_bytes
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_config(cls, config, chunk_bytes=CHUNK_BYTES):
        """A store for the S3_* settings (credentials may also come from boto3's own chain)."""
        client = boto3.client(
            "s3", endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            region_name=config.get("S3_REGION") or None,
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"},
                          s3={"addressing_style": "path"}))
        return cls(client, config["S3_BUCKET"], config.get("S3_PREFIX") or "", chunk_bytes)

    def _name(self, key):
        """The object name of a key."""
        return self.prefix + check_key(key)

    def _head(self, key):
        """The object's metadata, or None when it does not exist."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def put(self, key, source, content_type=None):
        """Upload (multipart for large files, streamed from a file object)."""
        if self._head(key) is not None:
            return False
        body = source
        if isinstance(source, bytes | bytearray | memoryview):
            import io

            body = io.BytesIO(bytes(source))
        self.client.upload_fileobj(body, self.bucket, self._name(key), ExtraArgs={
            "ContentType": content_type or guess_type(key)})
        return True

    def open(self, key):
        """The object; its body is read in pieces as it is iterated."""
        head = self._head(key)
        if head is None:
            raise NotFound(f"no stored file {key}")

        def chunks():
            body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
            try:
                yield from body.iter_chunks(self.chunk_bytes)
            finally:
                body.close()

        return StoredObject(key, head["ContentLength"],
                            head.get("ContentType") or guess_type(key), None, chunks)

    def exists(self, key):
        """Whether the object exists."""
        return self._head(key) is not None

    def delete(self, key):
        """Remove the object."""
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self):
        """Every key under the prefix, in the store's (lexicographic) order."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"][len(self.prefix):]
