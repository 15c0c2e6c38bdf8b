# The 19 Cityscapes class weights of the reference's stage-2 OHEM loss:
# model.distiller.tse.class_weight of every Cityscapes config (through
# ./cityscapes_rdd.py or directly). Their one definition: the tests and the
# lab read this file too.
cityscapes_class_weight = [
    0.8373, 0.918, 0.866, 1.0345, 1.0166, 0.9969, 0.9754, 1.0489, 0.8786,
    1.0023, 0.9539, 0.9843, 1.1116, 0.9037, 1.0865, 1.0955, 1.0865, 1.1529,
    1.0507
]
