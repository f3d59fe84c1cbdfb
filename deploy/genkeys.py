"""Print the four keys of /etc/mdtj/mdtj.env (deploy/README.md, step 2). Standard library only."""
import secrets

print("SECRET_KEY=" + secrets.token_urlsafe(50))
print("SM4_KEY=" + secrets.token_hex(16))
print("BLIND_INDEX_KEY=" + secrets.token_hex(32))
print("AUDIT_HMAC_KEY=" + secrets.token_hex(32))
