#!/usr/bin/env bash
# Installs the datasets that Debian packages: Fashion-MNIST (`dataset-fashion-mnist`, the official
# gzipped IDX files in /usr/share/datasets/fashion-mnist). Only as root where apt exists; otherwise it
# says what is missing and the rest of the set-up goes on (the fashion-mnist dataset then reports the
# missing files by name and place when a job asks for it). CIFAR-10, SVHN and full MNIST/EMNIST/KMNIST
# are not packaged: they go under MWT_DATA_DIR by hand (README, "Datasets").
set -uo pipefail

say() { echo "[datasets] $*"; }
FASHION_DIR=/usr/share/datasets/fashion-mnist

[ -f "$FASHION_DIR/train-images-idx3-ubyte.gz" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing dataset-fashion-mnist (Debian package, ~31 MB)"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; }; then
    exit 0
  fi
  say "apt-get could not install dataset-fashion-mnist: fashion-mnist stays unavailable"
else
  say "fashion-mnist is not installed ($FASHION_DIR): run 'apt-get install dataset-fashion-mnist' as root," \
    "or put the four official *-ubyte(.gz) files in \$MWT_DATA_DIR/fashion-mnist"
fi
exit 0
