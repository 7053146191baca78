from nbutils.layers.conv import *
