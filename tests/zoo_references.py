"""Which torchvision/timm model each cnnbook model must match (state_dict and outputs).

Used by the model tests and by benchmarks/bench_models.py. Each entry:
cnnbook name -> (library, reference name, smallest test input (C, H, W), create() kwargs).
"""

REFERENCES: dict[str, tuple[str, str, tuple[int, int, int], dict]] = {
    # --- classic families (AlexNet, VGG, NiN, GoogLeNet, Inception) ---
    "alexnet": ("torchvision", "alexnet", (3, 63, 63), {}),
    "vgg11": ("torchvision", "vgg11", (3, 32, 32), {}),
    "vgg11_bn": ("torchvision", "vgg11_bn", (3, 32, 32), {}),
    "vgg13": ("torchvision", "vgg13", (3, 32, 32), {}),
    "vgg13_bn": ("torchvision", "vgg13_bn", (3, 32, 32), {}),
    "vgg16": ("torchvision", "vgg16", (3, 32, 32), {}),
    "vgg16_bn": ("torchvision", "vgg16_bn", (3, 32, 32), {}),
    "vgg19": ("torchvision", "vgg19", (3, 32, 32), {}),
    "vgg19_bn": ("torchvision", "vgg19_bn", (3, 32, 32), {}),
    "googlenet": ("torchvision", "googlenet", (3, 15, 15), {}),
    "inception_v3": ("torchvision", "inception_v3", (3, 299, 299), {}),
    "inception_v4": ("timm", "inception_v4", (3, 75, 75), {}),
    "inception_resnet_v2": ("timm", "inception_resnet_v2", (3, 75, 75), {}),
    # --- residual families (ResNet, WRN, ResNeXt, DenseNet, DPN, ResNeSt, pre-act) ---
    "resnet18": ("torchvision", "resnet18", (3, 32, 32), {}),
    "resnet34": ("torchvision", "resnet34", (3, 32, 32), {}),
    "resnet50": ("torchvision", "resnet50", (3, 32, 32), {}),
    "resnet101": ("torchvision", "resnet101", (3, 32, 32), {}),
    "resnet152": ("torchvision", "resnet152", (3, 32, 32), {}),
    "wide_resnet50_2": ("torchvision", "wide_resnet50_2", (3, 32, 32), {}),
    "wide_resnet101_2": ("torchvision", "wide_resnet101_2", (3, 32, 32), {}),
    "resnext50_32x4d": ("torchvision", "resnext50_32x4d", (3, 32, 32), {}),
    "resnext101_32x8d": ("torchvision", "resnext101_32x8d", (3, 32, 32), {}),
    "resnext101_64x4d": ("torchvision", "resnext101_64x4d", (3, 32, 32), {}),
    "densenet121": ("torchvision", "densenet121", (3, 32, 32), {}),
    "densenet169": ("torchvision", "densenet169", (3, 32, 32), {}),
    "densenet201": ("torchvision", "densenet201", (3, 32, 32), {}),
    "preact_resnet18": ("timm", "resnetv2_18", (3, 32, 32), {}),
    "preact_resnet34": ("timm", "resnetv2_34", (3, 32, 32), {}),
    "preact_resnet50": ("timm", "resnetv2_50", (3, 32, 32), {}),
    "preact_resnet101": ("timm", "resnetv2_101", (3, 32, 32), {}),
    "preact_resnet152": ("timm", "resnetv2_152", (3, 32, 32), {}),
    "dpn68": ("timm", "dpn68", (3, 32, 32), {}),
    "dpn92": ("timm", "dpn92", (3, 32, 32), {}),
    "resnest50d": ("timm", "resnest50d", (3, 32, 32), {}),
    "resnest14d": ("timm", "resnest14d", (3, 32, 32), {}),
}
