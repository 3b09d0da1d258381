# Regenerates cv2_resize.json with Debian python3-opencv (4.6.0, the reference vectors' runtime):
#   /usr/bin/python3 cv2_resize.py > cv2_resize.json
import cv2, numpy as np, json, hashlib
def img(w, h):
    y, x = np.mgrid[0:h, 0:w]
    out = np.zeros((h, w, 3), np.uint8)
    for c in range(3):
        out[..., c] = ((x * 7 + y * 13 + c * 50 + ((x * y) % 17) * 3 + ((x // 5 + y // 3) % 2) * 90) % 256).astype(np.uint8)
    return out
cases = []
for (sw, sh, tw, th, interp) in [
    (617, 1080, 512, 896, 'LINEAR'), (1080, 1890, 512, 896, 'LINEAR'), (285, 500, 512, 896, 'LINEAR'),
    (411, 720, 512, 896, 'LINEAR'), (53, 37, 20, 71, 'LINEAR'), (512, 896, 512, 896, 'LINEAR'),
    (617, 1080, 512, 896, 'AREA'), (1024, 1792, 512, 896, 'AREA'), (1000, 1500, 512, 896, 'AREA'),
    (285, 500, 512, 896, 'AREA'), (53, 37, 20, 71, 'AREA'), (77, 41, 25, 13, 'AREA'),
]:
    src = img(sw, sh)
    out = cv2.resize(src, (tw, th), interpolation=cv2.INTER_LINEAR if interp == 'LINEAR' else cv2.INTER_AREA)
    cases.append({"src_wh": [sw, sh], "dst_wh": [tw, th], "interpolation": interp,
                  "sum": int(out.astype(np.int64).sum()), "sha256": hashlib.sha256(out.tobytes()).hexdigest()})
ref = []
for (sw, sh) in [(1000, 1500), (1920, 1080), (333, 777), (512, 896)]:
    # imread_resize_crop (centre crop //2, INTER_LINEAR) then crop2ratio + INTER_AREA, re-derived from X-Dyna's code
    src = img(sw, sh); W, H = 512, 896
    ta = W / H; h, w = src.shape[:2]
    if w / h > ta:
        nw = int(ta * h); off = (w - nw) // 2; a = src[:, off:off + nw]
    else:
        nh = int(w / ta); off = (h - nh) // 2; a = src[off:off + nh, :]
    a = cv2.resize(a, (W, H))
    h, w = a.shape[:2]
    if w / h < W / H:
        tw = w; th = int(tw / W * H)
    else:
        th = h; tw = int(th / H * W)
    sw_, sh_ = (w - tw) // 2, (h - th) // 4
    a = cv2.resize(a[sh_:sh_ + th, sw_:sw_ + tw], (W, H), interpolation=cv2.INTER_AREA)
    ref.append({"src_wh": [sw, sh], "out_wh": [W, H], "sum": int(a.astype(np.int64).sum()),
                "sha256": hashlib.sha256(a.tobytes()).hexdigest()})
print(json.dumps({
    "description": "cv2.resize outputs from Debian python3-opencv " + cv2.__version__ + " (the reference vectors' runtime), on formula images; sha256 over the HxWx3 uint8 bytes in RGB order as generated.",
    "pixel_formula": "img[y,x,c] = (7x + 13y + 50c + 3*((x*y) mod 17) + 90*((x div 5 + y div 3) mod 2)) mod 256",
    "opencv": cv2.__version__, "resize": cases, "prepare_reference": ref}, indent=1))
