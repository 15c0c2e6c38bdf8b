"""Packaging of mmrdd: Relative Difficulty Distillation for MMSeg/MMRazor."""
import os.path as osp
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    """Read ``__version__`` from ``mmrdd/version.py`` without importing it."""
    scope: dict = {}
    with open(osp.join(HERE, 'mmrdd', 'version.py'), encoding='utf-8') as f:
        exec(compile(f.read(), 'mmrdd/version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    """Requirement lines of ``requirements/<fname>``, comments dropped."""
    with open(osp.join(HERE, 'requirements', fname), encoding='utf-8') as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


setup(
    name='mmrdd',
    version=get_version(),
    description='Relative Difficulty Distillation (RDD) for semantic '
    'segmentation, as an MMSegmentation / MMRazor plugin',
    long_description=open(osp.join(HERE, 'README.md'),
                          encoding='utf-8').read() if osp.exists(
                              osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    license_files=['LICENSE'],
    # the plugin only: the lab (benchmarks, demo, seeds) stays in tools/
    packages=find_packages(include=('mmrdd', 'mmrdd.*')),
    # the configs, as OpenMMLab packages ship them, for `mmrdd::...`
    # (mmrdd/.mim/configs is a link to configs/ in a clone)
    package_data={
        'mmrdd': [
            '.mim/model-index.yml', '.mim/configs/**/*.py',
            '.mim/configs/**/*.md', '.mim/configs/**/*.yml'
        ]
    },
    entry_points={
        'console_scripts': [
            'mmrdd-train=mmrdd.cli.train:main',
            'mmrdd-test=mmrdd.cli.test:main',
            'mmrdd-convert=mmrdd.cli.convert:main',
        ]
    },
    python_requires='>=3.8',
    install_requires=parse_requirements('runtime.txt'),
    extras_require={'tests': parse_requirements('tests.txt')},
    zip_safe=False,
)
