#!/usr/bin/python3
"""Python/OpenCV side of io.xdyna.bench.pose.PoseBench: the same per-frame work as the Java pipeline's
decode + crop2ratio + INTER_LINEAR resize + OpenPose drawing as the pose extractor draws it (X-Dyna's
draw_bodypose without the head: the first 17 limbs as filled ellipses, skipping those that touch the eyes
or ears, darkening, body discs except eyes and ears), as X-Dyna's reference does it with cv2. Writes the
first frame's resized crop and drawing (raw RGB) into DUMP_DIR so the caller can check both sides made
the same pixels. Prints one JSON line: frames, seconds, fps.

usage: pose_bench.py VIDEO WIDTH HEIGHT KEYPOINTS_JSON MAX_FRAMES DUMP_DIR
"""
import json
import math
import sys
import time

import cv2
import numpy as np

LIMBS = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13], [13, 14],
         [2, 1], [1, 15], [15, 17], [1, 16], [16, 18]]
COLORS = [[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
          [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
          [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85]]


def crop2ratio(img, w, h):
    ih, iw = img.shape[:2]
    if iw / ih < w / h:
        tw, th = iw, int(iw / w * h)
    else:
        th, tw = ih, int(ih / h * w)
    sw, sh = (iw - tw) // 2, (ih - th) // 4
    return img[sh:sh + th, sw:sw + tw]


R_EYE = 14  # 0-based: eyes and ears (14..17) are not drawn, as PoseRenderer.render(..., noHead=True)


def drawn(pts, i):
    return i < R_EYE and pts[i][2] > 0.3


def draw(canvas, pts):
    h, w = canvas.shape[:2]
    for i, (a, b) in enumerate(LIMBS):
        if not drawn(pts, a - 1) or not drawn(pts, b - 1):
            continue
        pa, pb = pts[a - 1], pts[b - 1]
        y = np.array([pa[0], pb[0]]) * float(w)
        x = np.array([pa[1], pb[1]]) * float(h)
        mx, my = np.mean(x), np.mean(y)
        length = ((x[0] - x[1]) ** 2 + (y[0] - y[1]) ** 2) ** 0.5
        angle = math.degrees(math.atan2(x[0] - x[1], y[0] - y[1]))
        poly = cv2.ellipse2Poly((int(my), int(mx)), (int(length / 2), 4), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, poly, COLORS[i])
    canvas = (canvas * 0.6).astype(np.uint8)
    for i, p in enumerate(pts):
        if drawn(pts, i):
            cv2.circle(canvas, (int(p[0] * w), int(p[1] * h)), 4, COLORS[i], thickness=-1)
    return canvas


def main():
    video, w, h, kp, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    dump = sys.argv[6] if len(sys.argv) > 6 else None
    pts = json.load(open(kp))
    cap = cv2.VideoCapture(video)
    n = 0
    t0 = time.perf_counter()
    while n < limit:
        ok, frame = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        small = cv2.resize(crop2ratio(rgb, w, h), (w, h), interpolation=cv2.INTER_LINEAR)
        canvas = draw(np.zeros((h, w, 3), np.uint8), pts)
        if n == 0 and dump:
            small.tofile(dump + "/crop.rgb")
            canvas.tofile(dump + "/pose.rgb")
        n += 1
    dt = time.perf_counter() - t0
    print(json.dumps({"frames": n, "seconds": dt, "fps": n / dt if dt > 0 else 0, "opencv": cv2.__version__}))


if __name__ == "__main__":
    main()
