#!/usr/bin/python3
"""Full-size stand-ins for satc's two pretrained encoders, with random weights, in the real hub layouts.

    /usr/bin/python3 bench/export_models.py [--out bench/out/models] [--seed 0] [--opset 14]

No weights are downloaded: torchvision builds resnet50 and vit_b_32 with weights=None, seeded, and
torch.onnx exports them. The folder is what `--model-dir` takes:

  <out>/Xenova/resnet-50/
      config.json, preprocessor_config.json       (as microsoft/resnet-50 / Xenova/resnet-50)
      onnx/model.onnx                              pixel_values [B,3,224,224] -> logits [B,1000]
                                                   (conv stages -> GlobalAveragePool -> Flatten -> Gemm)
  <out>/Xenova/clip-vit-base-patch32/
      config.json, preprocessor_config.json       (as openai/clip-vit-base-patch32)
      onnx/vision_model.onnx                       pixel_values [B,3,224,224] -> image_embeds [B,512]

The CLIP vision side is torchvision's ViT-B/32 (12 layers, width 768, 7x7 patches of 32 px + class
token) with its classification head replaced by a bias-free 768 -> 512 projection, i.e. the shape and
cost of CLIPVisionModelWithProjection (CLIP adds a pre-LayerNorm and uses quick-GELU; a few
LayerNorms are < 0.1% of the FLOPs). Batch is dynamic in both files.

bench/encode_torch.py rebuilds the same modules from the same seed (build_models below), so PyTorch
and satc run identical weights on identical images.
"""
import argparse
import hashlib
import json
import os
import sys

import torch
import torchvision

RESNET_ID = "Xenova/resnet-50"
CLIP_ID = "Xenova/clip-vit-base-patch32"
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class ResnetClassifier(torch.nn.Module):
    """torchvision resnet50 with HF's input/output names: pixel_values -> logits."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, pixel_values):
        return self.net(pixel_values)

    def feature_map(self, pixel_values):
        """(B, 2048, h, w): the tensor that feeds the global pooling (what satc's graph edit exposes)."""
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(pixel_values))))
        return n.layer4(n.layer3(n.layer2(n.layer1(x))))


class ClipVision(torch.nn.Module):
    """torchvision vit_b_32 whose head is CLIP's visual projection: pixel_values -> image_embeds (B, 512)."""

    def __init__(self, vit, projection_dim=512):
        super().__init__()
        vit.heads = torch.nn.Linear(vit.hidden_dim, projection_dim, bias=False)
        self.vit = vit

    def forward(self, pixel_values):
        return self.vit(pixel_values)


def build_models(seed=0):
    """The two modules, in eval mode, from `seed` (same weights every call)."""
    torch.manual_seed(seed)
    resnet = ResnetClassifier(torchvision.models.resnet50(weights=None)).eval()
    torch.manual_seed(seed + 1)
    clip = ClipVision(torchvision.models.vit_b_32(weights=None)).eval()
    return resnet, clip


def resnet_config():
    labels = {str(i): f"LABEL_{i}" for i in range(1000)}
    return {
        "_name_or_path": "microsoft/resnet-50",
        "architectures": ["ResNetForImageClassification"],
        "depths": [3, 4, 6, 3],
        "downsample_in_first_stage": False,
        "embedding_size": 64,
        "hidden_act": "relu",
        "hidden_sizes": [256, 512, 1024, 2048],
        "id2label": labels,
        "label2id": {v: int(k) for k, v in labels.items()},
        "layer_type": "bottleneck",
        "model_type": "resnet",
        "num_channels": 3,
        "transformers_version": "4.33.0",
    }


def resnet_preprocessor():
    return {
        "crop_pct": 0.875,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": IMAGENET_MEAN,
        "image_processor_type": "ConvNextImageProcessor",
        "image_std": IMAGENET_STD,
        "resample": 3,
        "rescale_factor": 0.00392156862745098,
        "size": {"shortest_edge": 224},
    }


def clip_config():
    return {
        "_name_or_path": "openai/clip-vit-base-patch32",
        "architectures": ["CLIPModel"],
        "initializer_factor": 1.0,
        "logit_scale_init_value": 2.6592,
        "model_type": "clip",
        "projection_dim": 512,
        "text_config": {
            "hidden_size": 512, "intermediate_size": 2048, "max_position_embeddings": 77,
            "model_type": "clip_text_model", "num_attention_heads": 8, "num_hidden_layers": 12,
            "vocab_size": 49408, "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 1,
        },
        "vision_config": {
            "hidden_size": 768, "image_size": 224, "intermediate_size": 3072,
            "model_type": "clip_vision_model", "num_attention_heads": 12, "num_hidden_layers": 12,
            "patch_size": 32,
        },
        "transformers_version": "4.33.0",
    }


def clip_preprocessor():
    return {
        "crop_size": {"height": 224, "width": 224},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor",
        "image_mean": CLIP_MEAN,
        "image_processor_type": "CLIPImageProcessor",
        "image_std": CLIP_STD,
        "resample": 3,
        "rescale_factor": 0.00392156862745098,
        "size": {"shortest_edge": 224},
    }


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)


def export(module, path, output_name, opset):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    dummy = torch.zeros(1, 3, 224, 224)
    tmp = path + ".part"
    # Exported with autograd on: under no_grad, eval-mode nn.MultiheadAttention takes its fused
    # fast path (aten::_native_multi_head_attention), which torch 1.13 cannot export.
    torch.onnx.export(
        module, (dummy,), tmp,
        input_names=["pixel_values"], output_names=[output_name],
        dynamic_axes={"pixel_values": {0: "batch_size"}, output_name: {0: "batch_size"}},
        opset_version=opset, do_constant_folding=True,
    )
    os.replace(tmp, path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="bench/out/models")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--force", action="store_true", help="export again even when the files exist")
    a = ap.parse_args()
    if a.opset < 13:
        sys.exit("--opset must be >= 13")
    resnet, clip = build_models(a.seed)
    done = {}
    for repo, module, output, config, pre, file in [
        (RESNET_ID, resnet, "logits", resnet_config(), resnet_preprocessor(), "onnx/model.onnx"),
        (CLIP_ID, clip, "image_embeds", clip_config(), clip_preprocessor(), "onnx/vision_model.onnx"),
    ]:
        folder = os.path.join(a.out, repo)
        os.makedirs(os.path.join(folder, "onnx"), exist_ok=True)
        write_json(os.path.join(folder, "config.json"), config)
        write_json(os.path.join(folder, "preprocessor_config.json"), pre)
        path = os.path.join(folder, file)
        stamp = path + ".seed.json"
        meta = {"seed": a.seed, "opset": a.opset, "torch": torch.__version__, "torchvision": torchvision.__version__}
        fresh = os.path.exists(path) and os.path.exists(stamp) and json.load(open(stamp)) == meta
        if a.force or not fresh:
            export(module, path, output, a.opset)
            write_json(stamp, meta)
        done[repo] = {"file": path, "bytes": os.path.getsize(path), "sha256": sha256(path), "exported": a.force or not fresh}
    print(json.dumps({"out": a.out, **meta, "models": done}, indent=2))


if __name__ == "__main__":
    main()
