"""Which torchvision/timm model each cnnbook model must match (state_dict and outputs).

Used by the model tests and by benchmarks/bench_models.py. Each entry:
cnnbook name -> (library, reference name, smallest test input (C, H, W), create() kwargs).
"""

REFERENCES: dict[str, tuple[str, str, tuple[int, int, int], dict]] = {
    # --- classic families (AlexNet, VGG, NiN, GoogLeNet, Inception) ---
    # --- residual families (ResNet, WRN, ResNeXt, DenseNet, DPN, ResNeSt, pre-act) ---
}
