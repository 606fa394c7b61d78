#!/usr/bin/env python3
"""Persistent pocketsphinx decoder for LocalPocketsphinxStt (src/providers/stt/local-pocketsphinx.ts).

Protocol: JSON lines. stdin:  {"id": str, "pcm16le_b64": str, "sampleRate": 16000}
                     stdout: {"id": str, "text": str, "ms": float}  or  {"id": str, "error": str}
First line written on start: {"ready": true} or {"fatal": str} (then exit 2).
The model (Debian's en-us: 16 kHz continuous HMM, trigram LM, CMUdict) is loaded once.
Extra decoder options come as JSON on argv[1], e.g. {"-beam": "1e-60"}. `-remove_silence` defaults to false (see below),
so each utterance is decoded independently of the ones this process decoded before.
"""
import base64
import json
import sys
import time

MODEL = "/usr/share/pocketsphinx/model/en-us"


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    try:
        from pocketsphinx import pocketsphinx as ps
    except Exception as e:  # pragma: no cover - depends on the machine
        emit({"fatal": "python3-pocketsphinx is not installed or not importable: %s" % e})
        return 2
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    try:
        c = ps.Decoder.default_config()
        c.set_string("-hmm", options.pop("-hmm", MODEL + "/en-us"))
        c.set_string("-lm", options.pop("-lm", MODEL + "/en-us.lm.bin"))
        c.set_string("-dict", options.pop("-dict", MODEL + "/cmudict-en-us.dict"))
        c.set_string("-logfn", "/dev/null")
        # The decoder's silence remover (VAD) keeps its noise estimate from one utterance to the next, so the same
        # audio decoded as a worker's first utterance or a later one gave different words (measured on the
        # LibriVox fixtures through the 8 kHz path). Utterances arrive already endpointed by our VAD, so it is
        # off by default: a transcript then depends only on its audio, whichever pool worker decodes it.
        c.set_boolean("-remove_silence", bool(options.pop("-remove_silence", False)))
        for k, v in options.items():
            if isinstance(v, bool):
                c.set_boolean(k, v)
            elif isinstance(v, int):
                c.set_int(k, v)
            elif isinstance(v, float):
                c.set_float(k, v)
            else:
                c.set_string(k, str(v))
        d = ps.Decoder(c)
    except Exception as e:
        emit({"fatal": "cannot load the pocketsphinx model: %s" % e})
        return 2
    emit({"ready": True})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req["id"]
            if req.get("sampleRate") != 16000:
                raise ValueError("sampleRate must be 16000, got %r" % req.get("sampleRate"))
            pcm = base64.b64decode(req["pcm16le_b64"])
            t0 = time.perf_counter()
            d.start_utt()
            d.process_raw(pcm, False, True)
            d.end_utt()
            hyp = d.hyp()
            text = hyp.hypstr if hyp is not None else ""
            emit({"id": req_id, "text": text, "ms": (time.perf_counter() - t0) * 1000.0})
        except Exception as e:
            emit({"id": req_id, "error": str(e)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
