"""Independent SM4 (GB/T 32907) and GCM (NIST SP 800-38D) in pure Python: test-only reference."""
SBOX = bytes.fromhex(
    "d690e9fecce13db716b614c228fb2c052b679a762abe04c3aa441326498606999c4250f491ef987a33540b43edcfac62"
    "e4b31ca9c908e89580df94fa758f3fa64707a7fcf37317ba83593c19e6854fa8686b81b27164da8bf8eb0f4b70569d35"
    "1e240e5e6358d1a225227c3b01217887d40046579fd327524c3602e7a0c4c89eeabf8ad240c738b5a3f7f2cef96115a1"
    "e0ae5da49b341a55ad933230f58cb1e31df6e22e8266ca60c02923ab0d534e6fd5db3745defd8e2f03ff6a726d6c5b51"
    "8d1baf92bbddbc7f11d95c411f105ad80ac13188a5cd7bbd2d74d012b8e5b4b08969974a0c96777e65b9f109c56ec684"
    "18f07dec3adc4d2079ee5f3ed7cb3948")
FK = (0xA3B1BAC6, 0x56AA3350, 0x677D9197, 0xB27022DC)
CK = [sum((((4 * i + j) * 7) & 0xFF) << (24 - 8 * j) for j in range(4)) for i in range(32)]


def _rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def _tau(x):
    return int.from_bytes(bytes(SBOX[b] for b in x.to_bytes(4, "big")), "big")


def _round_keys(key: bytes):
    k = [int.from_bytes(key[4 * i:4 * i + 4], "big") ^ FK[i] for i in range(4)]
    rks = []
    for i in range(32):
        t = _tau(k[i + 1] ^ k[i + 2] ^ k[i + 3] ^ CK[i])
        k.append(k[i] ^ t ^ _rotl(t, 13) ^ _rotl(t, 23))
        rks.append(k[-1])
    return rks


def sm4_encrypt_block(key: bytes, block: bytes) -> bytes:
    x = [int.from_bytes(block[4 * i:4 * i + 4], "big") for i in range(4)]
    for rk in _round_keys(key):
        t = _tau(x[-3] ^ x[-2] ^ x[-1] ^ rk)
        x.append(x[-4] ^ t ^ _rotl(t, 2) ^ _rotl(t, 10) ^ _rotl(t, 18) ^ _rotl(t, 24))
    return b"".join(v.to_bytes(4, "big") for v in reversed(x[-4:]))


def _gf_mult(x: int, y: int) -> int:
    r, z, v = 0xE1 << 120, 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ r if v & 1 else v >> 1
    return z


def _ghash(h: int, data: bytes) -> int:
    y = 0
    for i in range(0, len(data), 16):
        y = _gf_mult(y ^ int.from_bytes(data[i:i + 16], "big"), h)
    return y


def sm4_gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, tag: bytes) -> bytes:
    """GCM with a 96-bit nonce and no associated data; raises ValueError on a wrong tag."""
    e = lambda b: sm4_encrypt_block(key, b)  # noqa: E731
    h = int.from_bytes(e(bytes(16)), "big")
    j0 = nonce + b"\x00\x00\x00\x01"
    counter = int.from_bytes(j0, "big")
    plain = bytearray()
    for i in range(0, len(ciphertext), 16):
        counter = (counter & ~0xFFFFFFFF) | ((counter + 1) & 0xFFFFFFFF)
        stream = e(counter.to_bytes(16, "big"))
        plain += bytes(a ^ b for a, b in zip(ciphertext[i:i + 16], stream))
    padded = ciphertext + bytes(-len(ciphertext) % 16) + (0).to_bytes(8, "big") + (len(ciphertext) * 8).to_bytes(8, "big")
    expected = (_ghash(h, padded) ^ int.from_bytes(e(j0), "big")).to_bytes(16, "big")
    if expected != tag:
        raise ValueError("GCM tag mismatch")
    return bytes(plain)
